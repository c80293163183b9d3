"""The messages peers exchange: a request with its hop (correlation id, trace header, the path
so far and the caller's deadline), and the answer every service gives in one shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Hop(BaseModel):
    """What travels with a request from service to service.

    `call_path` names the services the request went through, the caller last; its length is
    the request's call depth. `deadline_epoch_ms` is when the first caller stops waiting: no
    service down the path works past it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    correlation_id: str = Field(min_length=1, max_length=128)
    trace_header: str | None = Field(default=None, max_length=512)
    call_path: tuple[str, ...] = Field(default=(), max_length=32)
    deadline_epoch_ms: int | None = None


class PeerRequest(BaseModel):
    """A request to any service: a product (`sku`), a quantity, and the hop (absent when the
    request comes from outside the call graph)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    quantity: int = Field(default=1, ge=1, le=1000)
    hop: Hop | None = None


class Degradation(BaseModel):
    """A peer whose fallback stands in this answer, and why."""

    model_config = ConfigDict(frozen=True)

    peer: str
    reason: str


class PeerAnswer(BaseModel):
    """The answer of every service: `ok` with a `result`, or not `ok` with an `error`.

    A refusal (`ok` false) is an answer, not a failure of the service: the peer is healthy.
    `degraded` lists the peers this answer had to do without.
    """

    model_config = ConfigDict(frozen=True)

    ok: bool
    service: str
    correlation_id: str
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    degraded: tuple[Degradation, ...] = ()
