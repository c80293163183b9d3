"""Names the peer-to-peer stack and its services share: each is written here only.

Standard library only: infra, the demo and the tests import this module as well as the
functions, and it ships in the functions' asset with the rest of `peer_to_peer/`.
"""

from __future__ import annotations

from enum import StrEnum


class Service(StrEnum):
    """The four services; each is one Lambda function, registered in Cloud Map by this name."""

    CHECKOUT = "checkout"
    CATALOG = "catalog"
    PRICING = "pricing"
    STOCK = "stock"


#: Who calls whom, synchronously. Infra grants each caller `lambda:InvokeFunction` on exactly
#: these peers and lets it discover only them; the docs' diagram is drawn from the template.
CALL_GRAPH: dict[Service, tuple[Service, ...]] = {
    Service.CHECKOUT: (Service.CATALOG, Service.PRICING, Service.STOCK),
    Service.CATALOG: (Service.PRICING, Service.STOCK),
    Service.PRICING: (),
    Service.STOCK: (),
}


def handler(service: Service) -> str:
    """The handler string of `service`, as Lambda resolves it from the asset root."""
    return f"peer_to_peer.{service.value}.handler"


def callers_of(peer: Service) -> tuple[Service, ...]:
    return tuple(caller for caller, peers in CALL_GRAPH.items() if peer in peers)


# Environment variables the stack sets and the functions read.
ENV_SERVICE = "PEER_SERVICE"
ENV_PEERS = "PEERS"
ENV_NAMESPACE_NAME = "PEER_NAMESPACE_NAME"
ENV_DATA_TABLE_NAME = "DATA_TABLE_NAME"
ENV_BREAKER_TABLE_NAME = "BREAKER_TABLE_NAME"
ENV_CALL_TIMEOUT_MS = "PEER_CALL_TIMEOUT_MS"
ENV_MAX_CALL_DEPTH = "MAX_CALL_DEPTH"
ENV_FAILURE_THRESHOLD = "BREAKER_FAILURE_THRESHOLD"
ENV_COOL_DOWN_SECONDS = "BREAKER_COOL_DOWN_SECONDS"
ENV_DISCOVERY_TTL_SECONDS = "DISCOVERY_TTL_SECONDS"

#: The Cloud Map instance attribute holding a service's function ARN.
INSTANCE_ATTRIBUTE_FUNCTION_ARN = "function_arn"

#: Powertools' metric names (namespace ServerlessPatterns, dimension `service`).
PEER_FALLBACK_METRIC = "PeerFallbacks"
CIRCUIT_OPENED_METRIC = "CircuitOpened"


def circuit_name(peer: Service | str) -> str:
    """The circuit of `peer`: one per peer, shared by every caller through the breaker table."""
    return f"peer-{peer}"


class ErrorType(StrEnum):
    """The `error.type` of an answer that refuses a request (not a failure of the service)."""

    INVALID_REQUEST = "InvalidRequest"
    UNKNOWN_SKU = "UnknownSku"
    CALL_CYCLE = "CallCycleRefused"
    CALL_DEPTH = "CallDepthExceeded"


class FallbackReason(StrEnum):
    """Why a caller answered with a peer's fallback instead of the peer's answer."""

    CIRCUIT_OPEN = "circuit_open"
    PEER_FAILED = "peer_failed"


def output_function_name(service: Service) -> str:
    return f"{service.value.title()}FunctionName"


def output_table_name(service: Service) -> str:
    return f"{service.value.title()}TableName"


#: Services that own a data table (checkout only orchestrates).
DATA_OWNERS = (Service.CATALOG, Service.PRICING, Service.STOCK)

# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_BREAKER_TABLE_NAME = "BreakerTableName"
OUTPUT_NAMESPACE_NAME = "NamespaceName"
