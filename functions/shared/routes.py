"""What an HTTP API in front of one function knows of its own routes and bodies, before any
framework reads the request: the methods a path allows, and whether a body is JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The one media type a request body may have (RFC 8259: JSON text is UTF-8).
JSON_MEDIA_TYPE = "application/json"


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a `Content-Type` is `application/json`, in any letter case and with any
    parameters (`; charset=utf-8`); a missing or empty one is not: it is not guessed at."""
    return (content_type or "").split(";", 1)[0].strip().lower() == JSON_MEDIA_TYPE


class RouteTable:
    """The (method, path) routes of an API, `{name}` standing for one path segment as API
    Gateway matches it."""

    def __init__(self, routes: Iterable[tuple[str, str]]) -> None:
        self._routes = tuple(routes)
        self._patterns = {
            path: re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)))
            for path in dict.fromkeys(path for _, path in self._routes)
        }

    def allowed_methods(self, path: str) -> list[str]:
        """The methods the API serves on `path` (sorted, for an `Allow` header); empty if none."""
        for route_path, pattern in self._patterns.items():
            if pattern.fullmatch(path):
                return sorted(
                    method for method, candidate in self._routes if candidate == route_path
                )
        return []
