"""Hand-written cloud assemblies, for tests and benchmarks that need a few resources, not an app.

Synthesizing a CDK app takes seconds; a test of one queue and one function needs neither CDK
nor Node. `App` writes what `cdk synth` would (manifest.json, `<Stack>.template.json`,
`<Stack>.assets.json` and the `asset.<hash>/` folder of handler code), shaped like CDK's
output, so `LocalCloud` deploys it exactly as it deploys a synthesized app:

    app = App()
    queue = app.queue("Inbox", max_receive_count=2)
    table = app.table("Deliveries")
    worker = app.function("Worker", HANDLER_SOURCE, environment={"TABLE_NAME": ref(table)})
    app.sqs_source(worker, queue, batch_size=10)
    with LocalCloud(app.write(tmp_path)) as cloud:
        cloud.deploy(app.stack_name)

`service_role` and `python_function` are the same resources as plain template fragments, for
a caller that writes its template itself (`localcloud.core.assembly.write_assembly`).

It sits beside the entry points, not in the core: nothing in localcloud depends on it, and it
builds templates only as a CDK app's author would write them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.core.assembly import BOOTSTRAP_BUCKET, write_assembly

__all__ = ["App", "get_att", "python_function", "ref", "service_role"]


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def service_role(service: str) -> dict[str, Any]:
    """An IAM role that `service` (e.g. "lambda.amazonaws.com") may assume, as CDK writes it."""
    statement = {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": service}}
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [statement], "Version": "2012-10-17"}
        },
    }


def python_function(
    handler: str, asset_hash: str | None, *, role: str, timeout: int = 30, memory: int = 128
) -> dict[str, Any]:
    """A Python 3.13 function whose code is the asset `asset_hash`, run by the role `role`.

    `asset_hash` may be None while the asset's modules are still being added (`App` fills it
    in when it writes the template).
    """
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {
                "S3Bucket": {"Fn::Sub": BOOTSTRAP_BUCKET},
                "S3Key": None if asset_hash is None else f"{asset_hash}.zip",
            },
            "Handler": handler,
            "MemorySize": memory,
            "Role": get_att(role),
            "Runtime": "python3.13",
            "Timeout": timeout,
        },
        "DependsOn": [role],
    }


@dataclass
class App:
    """One stack of a cloud assembly, built resource by resource (see the module docstring).

    Every function's module goes into one asset shared by the stack's functions; each builder
    adds an output for what a caller reads back (`<id>Url`, `<id>Name`, `<id>Arn`).
    """

    stack_name: str = "Stack"
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)

    def add(self, logical_id: str, resource_type: str, properties: dict[str, Any]) -> str:
        self.resources[logical_id] = {"Type": resource_type, "Properties": properties}
        return logical_id

    def role(self, logical_id: str, service: str = "lambda.amazonaws.com") -> str:
        """An IAM role that `service` may assume, as CDK writes a service role."""
        self.resources[logical_id] = service_role(service)
        return logical_id

    def queue(
        self, logical_id: str, *, visibility_timeout: int = 30, max_receive_count: int | None = None
    ) -> str:
        """An SQS queue; with `max_receive_count`, also its dead-letter queue `<id>Dlq`."""
        properties: dict[str, Any] = {"VisibilityTimeout": visibility_timeout}
        if max_receive_count is not None:
            dead_letter = self.add(f"{logical_id}Dlq", "AWS::SQS::Queue", {})
            self.output(f"{dead_letter}Url", ref(dead_letter))
            properties["RedrivePolicy"] = {
                "deadLetterTargetArn": get_att(dead_letter),
                "maxReceiveCount": max_receive_count,
            }
        self.output(f"{logical_id}Url", ref(logical_id))
        return self.add(logical_id, "AWS::SQS::Queue", properties)

    def table(self, logical_id: str) -> str:
        """A DynamoDB table keyed by the string `id`."""
        self.output(f"{logical_id}Name", ref(logical_id))
        return self.add(
            logical_id,
            "AWS::DynamoDB::Table",
            {
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )

    def topic(self, logical_id: str) -> str:
        self.output(f"{logical_id}Arn", ref(logical_id))
        return self.add(logical_id, "AWS::SNS::Topic", {})

    def function(
        self,
        logical_id: str,
        source: str,
        *,
        environment: dict[str, Any] | None = None,
        timeout: int = 10,
        memory: int = 256,
        dead_letter_queue: str | None = None,
    ) -> str:
        """A Python 3.13 function running `source` (its own module in the stack's asset)."""
        module = logical_id.lower()
        self.modules[module] = source
        role = self.role(f"{logical_id}Role")
        # The asset's key is filled in by `template`, once every module of the asset is known.
        resource = python_function(
            f"{module}.handler", None, role=role, timeout=timeout, memory=memory
        )
        properties = resource["Properties"]
        properties["Environment"] = {"Variables": dict(environment or {})}
        if dead_letter_queue is not None:
            properties["DeadLetterConfig"] = {"TargetArn": get_att(dead_letter_queue)}
        self.resources[logical_id] = resource
        self.output(f"{logical_id}Name", ref(logical_id))
        return logical_id

    def sqs_source(
        self,
        function: str,
        queue: str,
        *,
        batch_size: int = 10,
        batching_window: int | None = None,
        report_failures: bool = False,
    ) -> str:
        properties: dict[str, Any] = {
            "BatchSize": batch_size,
            "EventSourceArn": get_att(queue),
            "FunctionName": ref(function),
        }
        if batching_window is not None:
            properties["MaximumBatchingWindowInSeconds"] = batching_window
        if report_failures:
            properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
        return self.add(f"{function}{queue}Source", "AWS::Lambda::EventSourceMapping", properties)

    def subscription(
        self,
        logical_id: str,
        topic: str,
        *,
        queue: str | None = None,
        function: str | None = None,
        filter_policy: dict[str, Any] | None = None,
        filter_policy_scope: str | None = None,
        raw_message_delivery: bool | None = None,
    ) -> str:
        """A subscription of a queue or a function to `topic`, as CDK writes it."""
        endpoint = queue or function
        if endpoint is None:
            raise ValueError("subscribe a queue or a function")
        properties: dict[str, Any] = {
            "Endpoint": get_att(endpoint),
            "Protocol": "sqs" if queue else "lambda",
            "TopicArn": ref(topic),
        }
        if filter_policy is not None:
            properties["FilterPolicy"] = filter_policy
        if filter_policy_scope is not None:
            properties["FilterPolicyScope"] = filter_policy_scope
        if raw_message_delivery is not None:
            properties["RawMessageDelivery"] = raw_message_delivery
        return self.add(logical_id, "AWS::SNS::Subscription", properties)

    def http_api(self, logical_id: str, function: str, route_keys: list[str]) -> str:
        """An HTTP API whose routes all go to `function`, on the `$default` stage.

        Outputs: `ApiUrl` (built with Ref, as CDK's `HttpApi.url`) and `ApiEndpoint` (GetAtt).
        """
        api = self.add(
            logical_id, "AWS::ApiGatewayV2::Api", {"Name": logical_id, "ProtocolType": "HTTP"}
        )
        integration = self.add(
            f"{logical_id}Integration",
            "AWS::ApiGatewayV2::Integration",
            {
                "ApiId": ref(api),
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": get_att(function),
                "PayloadFormatVersion": "2.0",
            },
        )
        for number, route_key in enumerate(route_keys):
            self.add(
                f"{logical_id}Route{number}",
                "AWS::ApiGatewayV2::Route",
                {
                    "ApiId": ref(api),
                    "AuthorizationType": "NONE",
                    "RouteKey": route_key,
                    "Target": {"Fn::Join": ["", ["integrations/", ref(integration)]]},
                },
            )
        self.add(
            f"{logical_id}DefaultStage",
            "AWS::ApiGatewayV2::Stage",
            {"ApiId": ref(api), "AutoDeploy": True, "StageName": "$default"},
        )
        self.output(
            "ApiUrl",
            {
                "Fn::Join": [
                    "",
                    [
                        "https://",
                        ref(api),
                        ".execute-api.",
                        ref("AWS::Region"),
                        ".",
                        ref("AWS::URLSuffix"),
                        "/",
                    ],
                ]
            },
        )
        self.output("ApiEndpoint", get_att(api, "ApiEndpoint"))
        return api

    def output(self, key: str, value: Any) -> None:
        self.outputs[key] = {"Value": value}

    def template(self) -> dict[str, Any]:
        resources = json.loads(json.dumps(self.resources))
        for resource in resources.values():
            if resource["Type"] == "AWS::Lambda::Function":
                resource["Properties"]["Code"]["S3Key"] = f"{self.asset_hash}.zip"
        return {
            "Resources": resources,
            "Outputs": self.outputs,
            "Parameters": {
                "BootstrapVersion": {
                    "Type": "AWS::SSM::Parameter::Value<String>",
                    "Default": "/cdk-bootstrap/hnb659fds/version",
                }
            },
        }

    @property
    def asset_hash(self) -> str:
        digest = hashlib.sha256()
        for module, source in sorted(self.modules.items()):
            digest.update(f"{module}\0{source}\0".encode())
        return digest.hexdigest()

    def write(self, directory: Path) -> Path:
        """Write the assembly into `directory` (created) and return it, for `LocalCloud`."""
        code = (
            {self.asset_hash: {f"{module}.py": source for module, source in self.modules.items()}}
            if self.modules
            else {}
        )
        return write_assembly(directory, self.stack_name, self.template(), code)
