"""cdk-nag and cfn-lint pass on every synthesized template, and each waiver says why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsii
import pytest
from aws_cdk import (
    App,
    CloudFormationValidatePlugin,
    IPolicyValidationContext,
    PolicyValidationStack,
    Stack,
)
from aws_cdk import aws_sqs as sqs

from infra.application import build_app
from tests.synth import CloudAssembly

#: cdk-nag findings the project acknowledges, each with a reason where it is acknowledged.
ACKNOWLEDGED_RULES = {
    "AwsSolutions-IAM5[Resource::*]",  # X-Ray actions only (see test_secure_defaults)
    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",  # grant_publish on the topic's own key
    "AwsSolutions-L1",  # runtime pinned in one constant
    "AwsSolutions-APIG4",  # the sample items API is public by design
    "AwsSolutions-SQS3",  # a stream source's on-failure queue is a DLQ cdk-nag cannot see
    # grant_invoke on one peer function covers its versions and aliases (`<arn>:*`)
    "AwsSolutions-IAM5[Resource::<PeerToPeerCatalogFunctionF13AC19C.Arn>:*]",
    "AwsSolutions-IAM5[Resource::<PeerToPeerPricingFunctionCD4C6A92.Arn>:*]",
    "AwsSolutions-IAM5[Resource::<PeerToPeerStockFunctionB8BE02B0.Arn>:*]",
    # the outbox pipe may invoke its enrichment function (and its versions and aliases)
    "AwsSolutions-IAM5[Resource::<EventSourcingPublisherFunction7F45DA5F.Arn>:*]",
    # the API gateway logs every request to its access log; execution logs need the
    # account-wide CloudWatch role, which a pattern's stack must not replace
    "AwsSolutions-APIG6",
    "AwsSolutions-COG4",  # the API gateway's methods use a JWT Lambda authorizer, not Cognito
    # the state machine invokes its steps function, the starters and the durable function itself
    # reach the durable function, on the function and its versions (`<arn>:*`)
    "AwsSolutions-IAM5[Resource::<OrchestrationStepsFunction11D2A163.Arn>:*]",
    "AwsSolutions-IAM5[Resource::<OrchestrationDurableFunction7BFC4116.Arn>:*]",
    # the ETL's functions reach the data bucket's objects by purpose, one prefix each
    *(
        f"AwsSolutions-IAM5[Resource::<EtlDataBucketAC3F5967.Arn>/{prefix}/*]"
        for prefix in ("archive", "landing", "quarantine", "staging", "warehouse")
    ),
    # the ETL state machine invokes its two functions (`<arn>:*`: versions and aliases)
    "AwsSolutions-IAM5[Resource::<EtlLoadFunction4D2C1D7E.Arn>:*]",
    "AwsSolutions-IAM5[Resource::<EtlTransformFunctionC8D79041.Arn>:*]",
    # the Distributed Map describes and stops its own map runs' child executions
    *(
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
        'execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"EtlRunsCD504ADE"}]}]}' + suffix + "]"
        for suffix in (":*", "/*:*")
    ),
}


def test_cdk_nag_reports_no_unacknowledged_finding(dev_assembly: CloudAssembly):
    report = dev_assembly.plugin_report("AwsSolutions")
    assert report["conclusion"] == "success"
    assert report["violations"] == []


@jsii.implements(IPolicyValidationContext)
class _Templates:
    """What CDK's validation plugin reads at synth: the templates and the app they came from."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = paths
        self._app = App()

    @property
    def template_paths(self) -> list[str]:
        return [str(path) for path in self._paths]

    @property
    def stack_templates(self) -> list[PolicyValidationStack]:
        return [
            PolicyValidationStack(stack_construct_path=path.stem, template_path=str(path))
            for path in self._paths
        ]

    @property
    def app_construct(self) -> App:
        return self._app

    @property
    def account_id(self) -> None:
        return None

    @property
    def region(self) -> None:
        return None


def test_cdks_own_template_validation_finds_nothing_in_any_template(
    dev_assembly: CloudAssembly, prod_assembly: CloudAssembly, tmp_path: Path
):
    # The suite's synths leave CDK's validation engine out (tests/conftest.py); here it runs on
    # every template, once. CDK would report its errors as warnings and pass the synth anyway.
    validator = CloudFormationValidatePlugin()

    # GIVEN a template with a property no SQS queue has: the engine is seen to judge
    broken = tmp_path / "Broken.template.json"
    broken.write_text(
        json.dumps(
            {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Colour": "red"}}}}
        )
    )
    assert validator.validate(_Templates([broken])).violations

    # WHEN it validates every template the app synthesizes, in both stages
    report = validator.validate(
        _Templates([*dev_assembly.template_paths(), *prod_assembly.template_paths()])
    )

    # THEN it finds nothing
    assert [(v.rule_name, v.description) for v in report.violations] == []
    assert report.success


def test_every_cdk_nag_acknowledgement_is_known_and_gives_a_specific_reason(
    dev_assembly: CloudAssembly,
):
    report = dev_assembly.plugin_report("AwsSolutions")
    suppressed = report["suppressedViolations"]
    assert {finding["ruleName"] for finding in suppressed} == ACKNOWLEDGED_RULES
    for finding in suppressed:
        assert len(finding["reason"]) >= 60, finding["ruleName"]


def test_cfn_lint_finds_no_error_in_any_template(dev_assembly: CloudAssembly):
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--format", "json", *map(str, dev_assembly.template_paths())],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=2)
    # W3005 (redundant DependsOn) comes from CDK's own output; anything else is ours to fix.
    assert {f["Rule"]["Id"] for f in findings} <= {"W3005"}


def test_synth_writes_one_template_per_stack(dev_assembly: CloudAssembly):
    manifest = json.loads((dev_assembly.outdir / "manifest.json").read_text())
    stacks = {
        name
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert (
        stacks
        == set(dev_assembly.templates)
        == {
            "RequestResponse",
            "PubSub",
            "Batching",
            "StreamProcessing",
            "PeerToPeer",
            "ApiGateway",
            "Orchestration",
            "EventSourcing",
            "Etl",
        }
    )
    # Environment-agnostic stacks with no lookups: synth needs no AWS account or call.
    assert "missing" not in manifest
    for name in stacks:
        assert manifest["artifacts"][name]["environment"] == "aws://unknown-account/unknown-region"


def test_a_cdk_nag_finding_fails_the_synth(tmp_path):
    # GIVEN the project's app with one queue that lacks the secure defaults (no TLS-only policy)
    app = build_app(outdir=str(tmp_path))
    stack = Stack(app, "Insecure")
    sqs.Queue(stack, "PlainQueue", encryption=sqs.QueueEncryption.SQS_MANAGED)

    # WHEN it is synthesized THEN cdk-nag stops the synth
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS4"):
        app.synth()
    (report,) = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert report["conclusion"] == "failure"
    failing = {violation["ruleName"] for violation in report["violations"]}
    assert {"AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= failing
