"""AppConfig: the stage decides durability and retention; bad context fails with a clear error."""

from __future__ import annotations

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from infra.config import AppConfig, ConfigError, Stage


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
