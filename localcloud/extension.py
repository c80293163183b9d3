"""The contract between the engine and each service localcloud emulates beyond its core.

The engine itself runs functions, async invocations, SQS event sources, SNS -> Lambda and HTTP
APIs. Every other service (stream event sources, S3 notifications, EventBridge, Step
Functions, REST APIs, Cloud Map and Glue) is an `Extension`: a class that brings

- `PATCHES`: moto hooks, `(owner, attribute, wrap)` as in `engine._PATCHES`, installed when the
  engine starts and undone when it stops;
- `MODELS`: CloudFormation models for resource types moto's CloudFormation skips (subclasses
  of `cloudformation.OwnedResource`), used while the engine runs;
- `pump()`: one delivery round of its own pending work, called by the engine's `pump`;
- for an extension that serves HTTP APIs, `apis()` and `handle_http()`.

An extension reaches the running engine through `engine.active_engine()`, and itself through
`active_engine().extension(TheClass)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from localcloud.apifront import HttpRequest, HttpResponse
    from localcloud.engine import Engine


class Extension:
    """One emulated service (see the module docstring); the engine makes one per start."""

    PATCHES: ClassVar[Sequence[tuple[Any, str, Callable[[Any], Any]]]] = ()
    MODELS: ClassVar[Sequence[type]] = ()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pump(self, *, fast_forward: bool) -> int:
        """Deliver what is due (everything, with `fast_forward`); returns the work done."""
        return 0

    def stop(self) -> None:
        """Release what the extension holds (threads, timers) when the engine stops."""

    def apis(self) -> list[dict[str, str]]:
        """The APIs this extension serves: id, name and local URL."""
        return []

    def handle_http(self, api_id: str, request: HttpRequest) -> HttpResponse | None:
        """Answer a request to one of this extension's APIs; None when `api_id` is not one."""
        return None


def extension_classes() -> list[type[Extension]]:
    """Every extension, in the order the engine pumps them."""
    # Imported here: each extension module imports the engine, which imports this module.
    from localcloud.cloudmap_glue import CloudMapAndGlue
    from localcloud.eventbridge import EventBridgeRules
    from localcloud.restapi import RestApis
    from localcloud.s3notifications import S3Notifications
    from localcloud.stepfunctions import StepFunctions
    from localcloud.streams import StreamEventSources

    return [
        StreamEventSources,
        S3Notifications,
        EventBridgeRules,
        StepFunctions,
        RestApis,
        CloudMapAndGlue,
    ]
