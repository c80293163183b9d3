"""Event-source polling, shared by every source and every consumer of one.

Lambda polls a queue or a stream for a function; an EventBridge Pipe polls the same kinds of
source for its target. Both are a `Subscription`: one source (by ARN), the settings Lambda's
event source mappings name (batch size, batching window, filter criteria, retries, bisection,
maximum record age, partial batch responses, on-failure destination, parallelization, tumbling
window, starting position), and a consumer that takes each batch's event and says how it
ended. A service that owns a kind of source (`SOURCES`: `"sqs"`, or `"kinesis"` and
`"dynamodb"`) implements `poll(subscription)` with that source's reading rules, and keeps its
polling state per `Subscription.key`; a service that owns subscriptions (Lambda's event source
mappings, a Pipe) finds the source's poller through the core (`Core.event_source`) and polls
it each delivery round. Neither knows the other.

What a stream poller gives up goes to the subscription's on-failure destination in its
consumer's record shape: Lambda's (`requestContext` naming the function) for a mapping, the
Pipes shape (`context.partnerResourceArn`) when `pipe_arn` names the consuming pipe. A stream
source's poller also tells where each shard ends now (`shard_ends`), for a subscription that
starts at `LATEST`: the owner notes it when the subscription is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Outcome(Protocol):
    """How a consumer's handling of one batch ended (the runner's `Invocation` is one)."""

    payload: Any
    error: dict[str, Any] | None
    request_id: str

    @property
    def succeeded(self) -> bool: ...


@dataclass(frozen=True)
class Subscription:
    """One source joined to one consumer (see the module docstring).

    `settings` has the attributes of moto's `EventSourceMapping` (`batch_size`,
    `max_batch_window`, `filter_criteria`, `function_response_types`, `destination_config`,
    `starting_position`...); `identity_arn` is the role a stream record names as its invoker;
    `pipe_arn` is set when the consumer is an EventBridge Pipe.
    """

    key: str
    source_arn: str
    settings: Any
    consumer_name: str
    consumer_arn: str
    identity_arn: str
    consume: Callable[[dict[str, Any], str], Outcome]
    pipe_arn: str | None = None

    @property
    def region(self) -> str:
        return self.source_arn.split(":")[3]

    @property
    def account_id(self) -> str:
        return self.source_arn.split(":")[4]
