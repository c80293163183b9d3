"""Typed application configuration, read once from CDK context at the top of the app."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LAYER_VERSION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:[1-9]\d*$"
)


class Stage(StrEnum):
    """Deployment stage: drives what survives a `cdk destroy` and how long logs are kept."""

    DEV = "dev"
    PROD = "prod"


class PowertoolsSource(StrEnum):
    """Where the functions get Powertools (and pydantic) from, chosen by context `powertools`."""

    #: The official public layer, its ARN read at deploy time from AWS's public SSM parameter.
    SSM_PARAMETER = "ssm"
    #: A layer the user names by its version ARN (context `powertools` set to that ARN), for
    #: accounts or emulators without AWS's public parameter.
    LAYER_ARN = "layer-arn"
    #: Installed into each function's asset at synth (for Lambda's Python and architecture),
    #: for anywhere no layer is reachable.
    BUNDLED = "bundled"


class LambdaArchitecture(StrEnum):
    """The processor every function (and the layers it uses) is built for, chosen by context
    `architecture`."""

    #: Graviton, the default: the lower price per GB-second.
    ARM_64 = "arm64"
    #: For handlers whose native dependencies have no arm64 build, or an emulator on an
    #: x86_64 machine that runs handlers natively (a peer the load benchmark measures).
    X86_64 = "x86_64"


class ConfigError(ValueError):
    """Raised when CDK context holds a value the app cannot use."""


@dataclass(frozen=True, kw_only=True)
class BatchingConfig:
    """How the Batching pattern's processor takes its queue (context `batching`, a JSON object).

    Defaults, justified in docs/patterns/batching.md: batches of up to 500 records, gathered
    for up to 5 seconds; no provisioned pollers (they bill by the hour). Keys:
    `batch_size` (1 to 10,000), `max_batching_window_seconds` (0 to 300; above 10 records a
    batch needs a window of at least 1 s), `provisioned_pollers` (`{"minimum": 2,
    "maximum": 20}`: 1 to 200 and 1 to 2,000 event pollers, minimum <= maximum).
    """

    batch_size: int = 500
    max_batching_window_seconds: int = 5
    #: (minimum, maximum) event pollers, or None for Lambda's on-demand pollers.
    provisioned_pollers: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10_000:
            raise ConfigError(f"batching.batch_size must be 1 to 10000, got {self.batch_size}")
        if not 0 <= self.max_batching_window_seconds <= 300:
            raise ConfigError(
                "batching.max_batching_window_seconds must be 0 to 300, "
                f"got {self.max_batching_window_seconds}"
            )
        if self.batch_size > 10 and self.max_batching_window_seconds < 1:
            raise ConfigError(
                "batching.batch_size above 10 needs max_batching_window_seconds of at least 1 "
                "(Lambda's rule for SQS sources)"
            )
        if self.provisioned_pollers is not None:
            minimum, maximum = self.provisioned_pollers
            if not (1 <= minimum <= 200 and 1 <= maximum <= 2000 and minimum <= maximum):
                raise ConfigError(
                    "batching.provisioned_pollers needs 1 <= minimum <= 200, "
                    f"1 <= maximum <= 2000 and minimum <= maximum, got {minimum}, {maximum}"
                )

    @classmethod
    def from_context(cls, raw: Any) -> BatchingConfig:
        settings = _context_object(
            "batching", raw, {"batch_size", "max_batching_window_seconds", "provisioned_pollers"}
        )
        defaults = cls()
        pollers = settings.get("provisioned_pollers")
        try:
            return cls(
                batch_size=int(settings.get("batch_size", defaults.batch_size)),
                max_batching_window_seconds=int(
                    settings.get(
                        "max_batching_window_seconds", defaults.max_batching_window_seconds
                    )
                ),
                provisioned_pollers=None
                if not pollers
                else (int(pollers["minimum"]), int(pollers["maximum"])),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"context 'batching' is not usable: {error!r}") from None


@dataclass(frozen=True, kw_only=True)
class StreamProcessingConfig:
    """How the Stream processing aggregator reads its stream (context `stream_processing`, a
    JSON object). Keys: `parallelization_factor` (2: concurrent batches per shard, 1 to 10;
    each key keeps its order), `enhanced_fan_out` (false: true gives the aggregator its own
    stream consumer, with its own read throughput)."""

    parallelization_factor: int = 2
    enhanced_fan_out: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.parallelization_factor <= 10:
            raise ConfigError(
                "stream_processing.parallelization_factor must be 1 to 10, "
                f"got {self.parallelization_factor}"
            )

    @classmethod
    def from_context(cls, raw: Any) -> StreamProcessingConfig:
        settings = _context_object(
            "stream_processing", raw, {"parallelization_factor", "enhanced_fan_out"}
        )
        defaults = cls()
        factor = settings.get("parallelization_factor", defaults.parallelization_factor)
        fan_out = settings.get("enhanced_fan_out", defaults.enhanced_fan_out)
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise ConfigError(
                f"stream_processing.parallelization_factor must be a whole number, got {factor!r}"
            )
        if not isinstance(fan_out, bool):
            raise ConfigError(
                f"stream_processing.enhanced_fan_out must be true or false, got {fan_out!r}"
            )
        return cls(parallelization_factor=factor, enhanced_fan_out=fan_out)


@dataclass(frozen=True, kw_only=True)
class PeerToPeerConfig:
    """How the Peer to peer services guard their calls (context `peer_to_peer`, a JSON object).
    Keys: `call_timeout_ms` (2000: the longest one attempt waits for a peer, 50 to 60000; the
    caller's remaining time may cut it), `failure_threshold` (3 failed calls in a row open a
    peer's circuit, 1 to 100), `cool_down_seconds` (30: an open circuit's wait before one probe,
    1 to 3600), `max_call_depth` (4 hops, 1 to 16), `discovery_ttl_seconds` (60: how long a
    peer's Cloud Map answer is kept, 1 to 3600)."""

    call_timeout_ms: int = 2000
    failure_threshold: int = 3
    cool_down_seconds: int = 30
    max_call_depth: int = 4
    discovery_ttl_seconds: int = 60

    _LIMITS: ClassVar[dict[str, tuple[int, int]]] = {
        "call_timeout_ms": (50, 60_000),
        "failure_threshold": (1, 100),
        "cool_down_seconds": (1, 3600),
        "max_call_depth": (1, 16),
        "discovery_ttl_seconds": (1, 3600),
    }

    def __post_init__(self) -> None:
        for name, (low, high) in self._LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"peer_to_peer.{name} must be {low} to {high}, got {value!r}")

    @classmethod
    def from_context(cls, raw: Any) -> PeerToPeerConfig:
        settings = _context_object("peer_to_peer", raw, set(cls._LIMITS))
        return cls(**settings)


@dataclass(frozen=True, kw_only=True)
class EventSourcingConfig:
    """How the Event sourcing ledger keeps its store (context `event_sourcing`, a JSON object).
    Keys: `snapshot_interval` (25: a snapshot is written once the last one is this many events
    behind, so a load reads at most this many events past its snapshot; 1 to 1000),
    `projector_retry_attempts` (3: retries of a failed stream batch before it goes to the
    projector's on-failure queue, 0 to 10000), `outbox_retry_attempts` (3: the same for the
    outbox pipe and its dead-letter queue, 0 to 185)."""

    snapshot_interval: int = 25
    projector_retry_attempts: int = 3
    outbox_retry_attempts: int = 3

    _LIMITS: ClassVar[dict[str, tuple[int, int]]] = {
        "snapshot_interval": (1, 1000),
        "projector_retry_attempts": (0, 10_000),
        # EventBridge Pipes' own limit for stream sources.
        "outbox_retry_attempts": (0, 185),
    }

    def __post_init__(self) -> None:
        for name, (low, high) in self._LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"event_sourcing.{name} must be {low} to {high}, got {value!r}")

    @classmethod
    def from_context(cls, raw: Any) -> EventSourcingConfig:
        settings = _context_object("event_sourcing", raw, set(cls._LIMITS))
        return cls(**settings)


@dataclass(frozen=True, kw_only=True)
class ApiGatewayConfig:
    """Who the API gateway trusts and serves (context `api_gateway`, a JSON object). Keys:
    `issuer` (the token issuer's HTTPS URL, `iss`), `audience` (this API's identifier, `aud`),
    `jwks` (the issuer's public key set, `{"keys": [...]}`; empty by default, so no token is
    accepted until it is set here or in the stack's `JwksParameterName` parameter),
    `jwks_max_age_seconds` (300: how long the authorizer keeps the key set it read),
    `cors_origins` (the browser origins allowed to call the API)."""

    issuer: str = "https://issuer.example.com/"
    audience: str = "https://api.example.com"
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    jwks_max_age_seconds: int = 300
    cors_origins: tuple[str, ...] = ("https://app.example.com",)

    def __post_init__(self) -> None:
        if not self.issuer.startswith("https://"):
            raise ConfigError(f"api_gateway.issuer must be an https URL, got {self.issuer!r}")
        if not self.audience:
            raise ConfigError("api_gateway.audience must not be empty")
        if not isinstance(self.jwks.get("keys"), list):
            raise ConfigError('api_gateway.jwks must be a key set: {"keys": [...]}')
        if self.jwks_max_age_seconds < 0:
            raise ConfigError("api_gateway.jwks_max_age_seconds must not be negative")

    @classmethod
    def from_context(cls, raw: Any) -> ApiGatewayConfig:
        settings = _context_object(
            "api_gateway",
            raw,
            {"issuer", "audience", "jwks", "jwks_max_age_seconds", "cors_origins"},
        )
        defaults = cls()
        jwks = settings.get("jwks", defaults.jwks)
        origins = settings.get("cors_origins", list(defaults.cors_origins))
        max_age = settings.get("jwks_max_age_seconds", defaults.jwks_max_age_seconds)
        if not isinstance(jwks, dict):
            raise ConfigError(f"api_gateway.jwks must be a JSON object, got {jwks!r}")
        if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
            raise ConfigError(
                f"api_gateway.cors_origins must be a list of origins, got {origins!r}"
            )
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            raise ConfigError(
                f"api_gateway.jwks_max_age_seconds must be a whole number, got {max_age!r}"
            )
        return cls(
            issuer=str(settings.get("issuer", defaults.issuer)),
            audience=str(settings.get("audience", defaults.audience)),
            jwks=jwks,
            jwks_max_age_seconds=max_age,
            cors_origins=tuple(origins),
        )


@dataclass(frozen=True, kw_only=True)
class OrchestrationConfig:
    """How the Orchestration sagas run (context `orchestration`, a JSON object). Keys:
    `approval_threshold_cents` (50000: orders over this total wait for an approval, 0 to
    10^9), `approval_timeout_seconds` (86400: an approval not given by then rejects the order,
    60 to 604800), `max_concurrency` (5: lines reserved at once by each saga's map, 1 to 40),
    `retry_max_attempts` (4: attempts of a step failing transiently, retries included, 1 to
    10; backoff from 1 s, doubling, full jitter)."""

    approval_threshold_cents: int = 50_000
    approval_timeout_seconds: int = 86_400
    max_concurrency: int = 5
    retry_max_attempts: int = 4

    _LIMITS: ClassVar[dict[str, tuple[int, int]]] = {
        "approval_threshold_cents": (0, 10**9),
        "approval_timeout_seconds": (60, 7 * 86_400),
        "max_concurrency": (1, 40),
        "retry_max_attempts": (1, 10),
    }

    def __post_init__(self) -> None:
        for name, (low, high) in self._LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"orchestration.{name} must be {low} to {high}, got {value!r}")

    @classmethod
    def from_context(cls, raw: Any) -> OrchestrationConfig:
        settings = _context_object("orchestration", raw, set(cls._LIMITS))
        return cls(**settings)


@dataclass(frozen=True, kw_only=True)
class EtlConfig:
    """When the ETL runs and how wide (context `etl`, a JSON object). Keys: `schedule` (an
    EventBridge `rate(...)` or `cron(...)` expression, `rate(1 hour)`: a run also starts on
    every file landed), `max_concurrency` (10: files transformed at once by the Distributed
    Map, 1 to 10000), `retention_days` (30: how long staged rows, quarantined rows and
    archived source files are kept, 1 to 3650)."""

    schedule: str = "rate(1 hour)"
    max_concurrency: int = 10
    retention_days: int = 30

    _SCHEDULE: ClassVar[re.Pattern[str]] = re.compile(
        r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$"
    )
    _LIMITS: ClassVar[dict[str, tuple[int, int]]] = {
        "max_concurrency": (1, 10_000),
        "retention_days": (1, 3650),
    }

    def __post_init__(self) -> None:
        if not isinstance(self.schedule, str) or not self._SCHEDULE.match(self.schedule):
            raise ConfigError(
                "etl.schedule must be an EventBridge rate(...) or cron(...) expression, "
                f"got {self.schedule!r}"
            )
        for name, (low, high) in self._LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"etl.{name} must be {low} to {high}, got {value!r}")

    @classmethod
    def from_context(cls, raw: Any) -> EtlConfig:
        settings = _context_object("etl", raw, {"schedule", *cls._LIMITS})
        return cls(**settings)


def _context_object(key: str, raw: Any, known: set[str]) -> dict[str, Any]:
    """A pattern's settings: context `key` as a JSON object (a string from `-c`, an object from
    cdk.json) with only `known` keys; nothing set gives {} (every default)."""
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ConfigError(f"context {key!r} is not a JSON object: {raw!r}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"context {key!r} must be a JSON object, got {raw!r}")
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(
            f"context {key!r} has unknown keys {sorted(unknown)}; it takes {sorted(known)}"
        )
    return raw


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    """Everything the stacks need to know about where and how they are deployed.

    Built by `from_context` from the `cdk.json` context (overridable with `-c key=value`);
    nothing below `app.py` reads context or the environment itself.
    """

    stage: Stage = Stage.DEV
    alarm_email: str | None = None
    powertools: PowertoolsSource = PowertoolsSource.SSM_PARAMETER
    #: Set exactly when `powertools` is `LAYER_ARN`.
    powertools_layer_arn: str | None = None
    architecture: LambdaArchitecture = LambdaArchitecture.ARM_64
    batching: BatchingConfig = BatchingConfig()
    stream_processing: StreamProcessingConfig = StreamProcessingConfig()
    peer_to_peer: PeerToPeerConfig = PeerToPeerConfig()
    api_gateway: ApiGatewayConfig = field(default_factory=ApiGatewayConfig)
    orchestration: OrchestrationConfig = OrchestrationConfig()
    event_sourcing: EventSourcingConfig = EventSourcingConfig()
    etl: EtlConfig = EtlConfig()

    @property
    def is_production(self) -> bool:
        return self.stage is Stage.PROD

    @property
    def removal_policy(self) -> RemovalPolicy:
        """Stateful resources are kept on stack deletion in prod, deleted in dev."""
        return RemovalPolicy.RETAIN if self.is_production else RemovalPolicy.DESTROY

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays.ONE_YEAR if self.is_production else logs.RetentionDays.ONE_WEEK

    @property
    def deletion_protection(self) -> bool:
        return self.is_production

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> AppConfig:
        """Build the config from CDK context values (strings from `-c`, or JSON values)."""
        raw_stage = str(context.get("stage") or Stage.DEV.value).lower()
        try:
            stage = Stage(raw_stage)
        except ValueError:
            allowed = ", ".join(s.value for s in Stage)
            raise ConfigError(
                f"context 'stage' must be one of {allowed}, got {raw_stage!r}"
            ) from None
        alarm_email = context.get("alarm_email") or None
        if alarm_email is not None and not _EMAIL.match(str(alarm_email)):
            raise ConfigError(f"context 'alarm_email' is not an e-mail address: {alarm_email!r}")
        powertools, layer_arn = _powertools_source(context.get("powertools"))
        return cls(
            stage=stage,
            alarm_email=alarm_email,
            powertools=powertools,
            powertools_layer_arn=layer_arn,
            architecture=_architecture(context.get("architecture")),
            batching=BatchingConfig.from_context(context.get("batching")),
            stream_processing=StreamProcessingConfig.from_context(context.get("stream_processing")),
            peer_to_peer=PeerToPeerConfig.from_context(context.get("peer_to_peer")),
            api_gateway=ApiGatewayConfig.from_context(context.get("api_gateway")),
            orchestration=OrchestrationConfig.from_context(context.get("orchestration")),
            event_sourcing=EventSourcingConfig.from_context(context.get("event_sourcing")),
            etl=EtlConfig.from_context(context.get("etl")),
        )


def _architecture(raw: Any) -> LambdaArchitecture:
    value = str(raw or LambdaArchitecture.ARM_64.value).strip().lower()
    try:
        return LambdaArchitecture(value)
    except ValueError:
        allowed = ", ".join(architecture.value for architecture in LambdaArchitecture)
        raise ConfigError(
            f"context 'architecture' must be one of {allowed}, got {value!r}"
        ) from None


def _powertools_source(raw: Any) -> tuple[PowertoolsSource, str | None]:
    value = str(raw or PowertoolsSource.SSM_PARAMETER.value).strip()
    if value.startswith("arn:"):
        if not _LAYER_VERSION_ARN.match(value):
            raise ConfigError(
                "context 'powertools' is not a Lambda layer version ARN "
                f"(arn:aws:lambda:<region>:<account>:layer:<name>:<version>): {value!r}"
            )
        return PowertoolsSource.LAYER_ARN, value
    if value.lower() in (PowertoolsSource.SSM_PARAMETER, PowertoolsSource.BUNDLED):
        return PowertoolsSource(value.lower()), None
    raise ConfigError(
        "context 'powertools' must be 'ssm' (the public layer, the default), 'bundled' "
        f"(installed into each function's asset) or a layer version ARN, got {value!r}"
    )
