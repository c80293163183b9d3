"""AppConfig: the stage decides durability and retention; bad context fails with a clear error."""

from __future__ import annotations

import json

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from infra.config import (
    ApiGatewayConfig,
    AppConfig,
    BatchingConfig,
    ConfigError,
    LambdaArchitecture,
    PowertoolsSource,
    Stage,
    StreamProcessingConfig,
)


def test_defaults_to_a_disposable_dev_stage():
    config = AppConfig.from_context({})
    assert config.stage is Stage.DEV
    assert config.removal_policy is RemovalPolicy.DESTROY
    assert config.log_retention is logs.RetentionDays.ONE_WEEK
    assert config.deletion_protection is False
    assert config.alarm_email is None


def test_prod_retains_data_protects_tables_and_keeps_logs_a_year():
    config = AppConfig.from_context({"stage": "PROD", "alarm_email": "ops@example.com"})
    assert config.stage is Stage.PROD
    assert config.removal_policy is RemovalPolicy.RETAIN
    assert config.log_retention is logs.RetentionDays.ONE_YEAR
    assert config.deletion_protection is True
    assert config.alarm_email == "ops@example.com"


def test_empty_alarm_email_from_cdk_json_means_no_subscription():
    assert AppConfig.from_context({"stage": "dev", "alarm_email": ""}).alarm_email is None


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"stage": "staging"}, "context 'stage' must be one of dev, prod, got 'staging'"),
        ({"alarm_email": "not-an-address"}, "context 'alarm_email' is not an e-mail address"),
    ],
)
def test_bad_context_is_rejected_with_the_reason(context: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        AppConfig.from_context(context)


def test_powertools_comes_from_the_public_layer_unless_context_says_otherwise():
    assert AppConfig.from_context({}).powertools is PowertoolsSource.SSM_PARAMETER
    assert AppConfig.from_context({"powertools": "BUNDLED"}).powertools is PowertoolsSource.BUNDLED
    named = AppConfig.from_context(
        {"powertools": "arn:aws:lambda:eu-west-1:123456789012:layer:powertools:12"}
    )
    assert named.powertools is PowertoolsSource.LAYER_ARN
    assert named.powertools_layer_arn == "arn:aws:lambda:eu-west-1:123456789012:layer:powertools:12"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("docker", "context 'powertools' must be 'ssm' .* got 'docker'"),
        ("arn:aws:lambda:eu-west-1:123:layer:x:1", "is not a Lambda layer version ARN"),
        ("arn:aws:lambda:eu-west-1:123456789012:layer:x", "is not a Lambda layer version ARN"),
    ],
)
def test_a_powertools_choice_that_is_not_one_is_rejected(value: str, message: str):
    with pytest.raises(ConfigError, match=message):
        AppConfig.from_context({"powertools": value})


def test_functions_run_on_arm64_unless_context_asks_for_x86_64():
    assert AppConfig.from_context({}).architecture is LambdaArchitecture.ARM_64
    assert AppConfig.from_context({"architecture": "X86_64"}).architecture is (
        LambdaArchitecture.X86_64
    )
    with pytest.raises(
        ConfigError, match="context 'architecture' must be one of arm64, x86_64, got 'amd64'"
    ):
        AppConfig.from_context({"architecture": "amd64"})


def test_the_batching_event_source_comes_from_the_batching_context_key():
    # GIVEN `-c batching=...` as the CDK CLI passes it (a JSON string)
    raw = json.dumps(
        {
            "batch_size": 2000,
            "max_batching_window_seconds": 2,
            "provisioned_pollers": {"minimum": 2, "maximum": 20},
        }
    )

    batching = AppConfig.from_context({"batching": raw}).batching

    assert batching == BatchingConfig(
        batch_size=2000, max_batching_window_seconds=2, provisioned_pollers=(2, 20)
    )
    assert AppConfig.from_context({}).batching == BatchingConfig(
        batch_size=500, max_batching_window_seconds=5, provisioned_pollers=None
    )


def test_stream_processing_reads_its_parallelization_and_fan_out_from_its_context_key():
    assert AppConfig.from_context({}).stream_processing == StreamProcessingConfig(
        parallelization_factor=2, enhanced_fan_out=False
    )
    # -c passes a JSON string; cdk.json passes the object itself
    from_cli = AppConfig.from_context(
        {"stream_processing": '{"parallelization_factor": 10, "enhanced_fan_out": true}'}
    )
    from_json = AppConfig.from_context({"stream_processing": {"parallelization_factor": 1}})

    assert from_cli.stream_processing == StreamProcessingConfig(
        parallelization_factor=10, enhanced_fan_out=True
    )
    assert from_json.stream_processing == StreamProcessingConfig(
        parallelization_factor=1, enhanced_fan_out=False
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"batch_size": 10_001},
        {"batch_size": 100, "max_batching_window_seconds": 0},
        {"provisioned_pollers": {"minimum": 30, "maximum": 20}},
        {"batch_size": 100, "unknown": 1},
        "not json",
    ],
    ids=["batch too large", "no window above 10", "minimum above maximum", "unknown key", "text"],
)
def test_a_batching_context_lambda_would_refuse_stops_the_app(raw):
    with pytest.raises(ConfigError):
        BatchingConfig.from_context(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"parallelization_factor": 11}, "1 to 10, got 11"),
        ({"parallelization_factor": 0}, "1 to 10, got 0"),
        ({"parallelization_factor": "two"}, "a whole number, got 'two'"),
        ({"enhanced_fan_out": "yes"}, "true or false, got 'yes'"),
        ({"parallelisation_factor": 2}, r"unknown keys \['parallelisation_factor'\]"),
        ("2", "must be a JSON object, got 2"),
    ],
)
def test_a_stream_processing_setting_that_is_not_one_is_refused_saying_why(raw, message: str):
    with pytest.raises(ConfigError, match=message):
        AppConfig.from_context({"stream_processing": raw})


def test_peer_to_peer_context_sets_the_guards_and_refuses_what_lambda_could_not_use():
    from infra.config import PeerToPeerConfig

    assert AppConfig.from_context({}).peer_to_peer == PeerToPeerConfig()
    chosen = AppConfig.from_context(
        {"peer_to_peer": '{"call_timeout_ms": 500, "failure_threshold": 5}'}
    ).peer_to_peer
    assert (chosen.call_timeout_ms, chosen.failure_threshold, chosen.cool_down_seconds) == (
        500,
        5,
        30,
    )
    for bad in ('{"cool_down_seconds": 0}', '{"max_call_depth": true}', '{"retries": 2}'):
        with pytest.raises(ConfigError, match="peer_to_peer"):
            AppConfig.from_context({"peer_to_peer": bad})


def test_the_api_gateway_reads_its_issuer_keys_and_origins_from_its_context_key():
    key_set = {"keys": [{"kty": "RSA", "kid": "k1", "n": "abc", "e": "AQAB"}]}
    raw = json.dumps(
        {
            "issuer": "https://login.example.com/",
            "audience": "https://orders.example.com",
            "jwks": key_set,
            "jwks_max_age_seconds": 60,
            "cors_origins": ["https://shop.example.com"],
        }
    )

    config = AppConfig.from_context({"api_gateway": raw})

    assert config.api_gateway == ApiGatewayConfig(
        issuer="https://login.example.com/",
        audience="https://orders.example.com",
        jwks=key_set,
        jwks_max_age_seconds=60,
        cors_origins=("https://shop.example.com",),
    )
    # Nothing set: no key is trusted, so no token is accepted until one is configured.
    assert AppConfig.from_context({}).api_gateway.jwks == {"keys": []}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"issuer": "http://login.example.com/"}, "https URL"),
        ({"jwks": {"key": []}}, "key set"),
        ({"jwks": "keys"}, "JSON object"),
        ({"cors_origins": "https://a.example.com"}, "list of origins"),
        ({"jwks_max_age_seconds": "300"}, "whole number"),
        ({"tiers": {}}, "unknown keys"),
    ],
)
def test_an_api_gateway_setting_that_is_not_one_is_refused_saying_why(raw, message: str):
    with pytest.raises(ConfigError, match=message):
        AppConfig.from_context({"api_gateway": json.dumps(raw)})


def test_the_orchestration_context_sets_the_sagas_and_refuses_what_they_could_not_use():
    from infra.config import OrchestrationConfig

    assert AppConfig.from_context({}).orchestration == OrchestrationConfig()
    chosen = AppConfig.from_context(
        {"orchestration": {"approval_threshold_cents": 0, "max_concurrency": 10}}
    ).orchestration
    assert (
        chosen.approval_threshold_cents,
        chosen.approval_timeout_seconds,
        chosen.max_concurrency,
        chosen.retry_max_attempts,
    ) == (0, 86_400, 10, 4)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"approval_timeout_seconds": 10}', r"approval_timeout_seconds must be 60 to 604800"),
        ('{"max_concurrency": 0}', r"max_concurrency must be 1 to 40"),
        ('{"retry_max_attempts": true}', r"retry_max_attempts must be 1 to 10, got True"),
        ('{"approval_threshold_cents": "5"}', r"approval_threshold_cents must be 0 to"),
        ('{"threshold": 5}', r"unknown keys \['threshold'\]"),
    ],
)
def test_an_orchestration_setting_that_is_not_one_is_refused_saying_why(raw, message: str):
    with pytest.raises(ConfigError, match=message):
        AppConfig.from_context({"orchestration": raw})


def test_event_sourcing_context_sets_the_snapshot_interval_and_retries_within_limits():
    from infra.config import EventSourcingConfig

    assert AppConfig.from_context({}).event_sourcing == EventSourcingConfig()
    chosen = AppConfig.from_context(
        {"event_sourcing": '{"snapshot_interval": 100, "outbox_retry_attempts": 10}'}
    ).event_sourcing
    assert (
        chosen.snapshot_interval,
        chosen.projector_retry_attempts,
        chosen.outbox_retry_attempts,
    ) == (100, 3, 10)
    for bad, message in (
        ('{"snapshot_interval": 0}', "snapshot_interval must be 1 to 1000, got 0"),
        ('{"snapshot_interval": "10"}', "snapshot_interval must be 1 to 1000, got '10'"),
        ('{"outbox_retry_attempts": 186}', "outbox_retry_attempts must be 0 to 185"),
        ('{"snapshots": 5}', r"unknown keys \['snapshots'\]"),
    ):
        with pytest.raises(ConfigError, match=message):
            AppConfig.from_context({"event_sourcing": bad})


def test_the_etl_reads_its_schedule_width_and_retention_from_its_context_key():
    from infra.config import EtlConfig

    assert AppConfig.from_context({}).etl == EtlConfig(
        schedule="rate(1 hour)", max_concurrency=10, retention_days=30
    )
    chosen = AppConfig.from_context(
        {"etl": '{"schedule": "cron(15 2 * * ? *)", "max_concurrency": 50}'}
    ).etl
    assert (chosen.schedule, chosen.max_concurrency, chosen.retention_days) == (
        "cron(15 2 * * ? *)",
        50,
        30,
    )
    assert AppConfig.from_context({"etl": {"schedule": "rate(5 minutes)"}}).etl.schedule == (
        "rate(5 minutes)"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"schedule": "every hour"}', "etl.schedule must be an EventBridge rate"),
        ('{"schedule": "rate(1 fortnight)"}', "etl.schedule must be an EventBridge rate"),
        ('{"max_concurrency": 0}', "etl.max_concurrency must be 1 to 10000, got 0"),
        ('{"max_concurrency": true}', "etl.max_concurrency must be 1 to 10000, got True"),
        ('{"retention_days": 4000}', "etl.retention_days must be 1 to 3650, got 4000"),
        ('{"bucket": "mine"}', "context 'etl' has unknown keys \\['bucket'\\]"),
        ("[1]", "context 'etl' must be a JSON object"),
    ],
)
def test_an_etl_setting_that_is_not_one_is_refused_saying_why(raw: str, message: str):
    with pytest.raises(ConfigError, match=message):
        AppConfig.from_context({"etl": raw})
