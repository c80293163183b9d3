"""What a scenario needs from a cloud: in-process `LocalCloud` and `RemoteCloud` both provide it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from localcloud import HttpResponse, Invocation


class Cloud(Protocol):
    @property
    def invocations(self) -> list[Invocation]: ...

    def client(self, service: str) -> Any: ...

    def outputs(self, stack_name: str) -> dict[str, str]: ...

    def invoke(self, function_name: str, event: Any) -> Invocation: ...

    def http(
        self,
        method: str,
        url: str,
        *,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse: ...

    def settle(self) -> int: ...

    def throttle_batch_writes(self, table_name: str, *, unprocessed: int, calls: int = 1) -> None:
        """The next `calls` BatchWriteItem calls on the table leave `unprocessed` requests
        unprocessed, as DynamoDB does when it throttles."""
        ...

    def delivery_held(self) -> AbstractContextManager[None]:
        """No background delivery inside the block; `settle()` still delivers."""
        ...
