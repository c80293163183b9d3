"""REST APIs (API Gateway v1) served by the API front."""

from __future__ import annotations

from localcloud.extension import Extension


class RestApis(Extension):
    """REST APIs (API Gateway v1) served by the API front."""
