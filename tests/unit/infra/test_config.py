"""AppConfig: the stage decides durability and retention; bad context fails with a clear error."""

from __future__ import annotations

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from infra.config import AppConfig, ConfigError, PowertoolsSource, Stage


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


def test_stream_processing_reads_its_parallelization_and_fan_out_from_context():
    assert AppConfig.from_context({}).stream_parallelization_factor == 2
    assert AppConfig.from_context({}).stream_enhanced_fan_out is False
    # -c passes strings; cdk.json passes JSON values
    from_cli = AppConfig.from_context(
        {"stream_parallelization_factor": "10", "stream_enhanced_fan_out": "TRUE"}
    )
    assert (from_cli.stream_parallelization_factor, from_cli.stream_enhanced_fan_out) == (10, True)
    from_json = AppConfig.from_context(
        {"stream_parallelization_factor": 1, "stream_enhanced_fan_out": False}
    )
    assert (from_json.stream_parallelization_factor, from_json.stream_enhanced_fan_out) == (
        1,
        False,
    )


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"stream_parallelization_factor": "11"}, "from 1 to 10, got '11'"),
        ({"stream_parallelization_factor": "two"}, "from 1 to 10, got 'two'"),
        ({"stream_parallelization_factor": 0}, "from 1 to 10, got 0"),
        ({"stream_enhanced_fan_out": "yes"}, "must be true or false, got 'yes'"),
    ],
)
def test_a_stream_processing_setting_that_is_not_one_is_rejected(context: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        AppConfig.from_context(context)
