"""Deploys synthesized stacks onto an active moto mock and runs them with AWS's semantics.

Use inside `moto.mock_aws()`:

    with mock_aws():
        cloud = LocalCloud("cdk.out")
        cloud.deploy("PubSub")
        cloud.invoke("PubSub", "PubSubPublisherFunction46795EB8", {"events": [...]})
        cloud.settle()           # deliver every pending SQS message to its consumer

moto stores the data (tables, queues, topics, subscriptions); localcloud owns the compute:
functions run in-process from their assets, SQS event sources are polled here with batch
size, partial batch responses and redrive, and HTTP API routes are served by `request()`.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3

from localcloud.assembly import StackTemplate, load_assembly
from localcloud.runner import FunctionRunner, Invocation, LocalFunction

ACCOUNT_ID = "123456789012"


@dataclass
class SqsEventSource:
    """An SQS -> Lambda event source mapping, as the template declares it."""

    function: LocalFunction
    queue_url: str
    queue_arn: str
    batch_size: int
    reports_batch_item_failures: bool


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class DeployedStack:
    """What localcloud made of one stack: physical ids, functions, event sources, routes."""

    template: StackTemplate
    physical_ids: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    routes: dict[str, LocalFunction] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)


class UnsupportedTemplateError(ValueError):
    """The template uses something localcloud cannot run yet (an intrinsic, an event source)."""


class LocalCloud:
    """An in-process AWS for a CDK app's synthesized templates (see module docstring)."""

    def __init__(self, assembly_dir: str | Path = "cdk.out", *, region: str = "eu-west-1"):
        self.region = region
        self.stacks = load_assembly(assembly_dir)
        self.deployed: dict[str, DeployedStack] = {}
        self.invocations: list[Invocation] = []
        self.sqs_sources: list[SqsEventSource] = []
        self.runner = FunctionRunner()
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)
        return self._clients[service]

    # -- deploy ---------------------------------------------------------------------------

    def deploy(self, stack_name: str) -> DeployedStack:
        """Create the stack's resources on moto and register its functions and sources."""
        stack = DeployedStack(self.stacks[stack_name])
        self.deployed[stack_name] = stack
        template = stack.template
        for logical_id, resource in template.of_type("AWS::DynamoDB::Table").items():
            self._create_table(stack, logical_id, resource["Properties"])
        queues = template.of_type("AWS::SQS::Queue")
        # Dead-letter queues first: a redrive policy names its target's ARN.
        for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]["Properties"]):
            self._create_queue(stack, logical_id, queues[logical_id]["Properties"])
        for logical_id in template.of_type("AWS::SNS::Topic"):
            self._create_topic(stack, logical_id)
        for resource in template.of_type("AWS::SNS::Subscription").values():
            self._subscribe(stack, resource["Properties"])
        for logical_id, resource in template.of_type("AWS::Lambda::Function").items():
            self._register_function(stack, logical_id, resource["Properties"])
        for resource in template.of_type("AWS::Lambda::EventSourceMapping").values():
            self._register_event_source(stack, resource["Properties"])
        self._register_routes(stack)
        self._resolve_outputs(stack)
        return stack

    def _resolve_outputs(self, stack: DeployedStack) -> None:
        # moto's CloudFormation returns no outputs; they are resolved here from the template.
        for name, output in stack.template.template.get("Outputs", {}).items():
            try:
                stack.outputs[name] = str(self.resolve(stack, output["Value"]))
            except KeyError:
                continue  # it names a resource in-process mode does not create (the HTTP API)

    def _name(self, stack: DeployedStack, logical_id: str, *, max_length: int = 80) -> str:
        # Like CloudFormation's generated names: stack and logical id, cut to fit, and a random
        # suffix that is never cut, so two long names cannot collide.
        suffix = uuid.uuid4().hex[:12]
        return f"{stack.template.name}-{logical_id}"[: max_length - len(suffix) - 1] + f"-{suffix}"

    def _create_table(self, stack: DeployedStack, logical_id: str, props: dict) -> None:
        name = self._name(stack, logical_id)
        dynamodb = self.client("dynamodb")
        table = dynamodb.create_table(
            TableName=name,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
        )["TableDescription"]
        if props.get("TimeToLiveSpecification", {}).get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"]
            )
        stack.physical_ids[logical_id] = name
        stack.attributes[(logical_id, "Arn")] = table["TableArn"]

    def _create_queue(self, stack: DeployedStack, logical_id: str, props: dict) -> None:
        attributes = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(self.resolve(stack, props["RedrivePolicy"]))
        url = self.client("sqs").create_queue(
            QueueName=self._name(stack, logical_id), Attributes=attributes
        )["QueueUrl"]
        arn = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        stack.physical_ids[logical_id] = url
        stack.attributes[(logical_id, "Arn")] = arn
        stack.attributes[(logical_id, "QueueUrl")] = url

    def _create_topic(self, stack: DeployedStack, logical_id: str) -> None:
        arn = self.client("sns").create_topic(Name=self._name(stack, logical_id))["TopicArn"]
        stack.physical_ids[logical_id] = arn
        stack.attributes[(logical_id, "TopicArn")] = arn

    def _subscribe(self, stack: DeployedStack, props: dict) -> None:
        # moto's CloudFormation skips AWS::SNS::Subscription; localcloud creates it.
        attributes = {}
        if "FilterPolicy" in props:
            attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        if "FilterPolicyScope" in props:
            attributes["FilterPolicyScope"] = props["FilterPolicyScope"]
        if props.get("RawMessageDelivery"):
            attributes["RawMessageDelivery"] = "true"
        self.client("sns").subscribe(
            TopicArn=self.resolve(stack, props["TopicArn"]),
            Protocol=props["Protocol"],
            Endpoint=self.resolve(stack, props["Endpoint"]),
            Attributes=attributes,
        )

    def _register_function(self, stack: DeployedStack, logical_id: str, props: dict) -> None:
        name = self._name(stack, logical_id, max_length=64)
        stack.physical_ids[logical_id] = name
        function = LocalFunction(
            name=name,
            handler=props["Handler"],
            code_dir=stack.template.asset_dir(logical_id),
            environment={
                key: str(self.resolve(stack, value))
                for key, value in props.get("Environment", {}).get("Variables", {}).items()
            },
            timeout_seconds=props.get("Timeout", 3),
            memory_mb=props.get("MemorySize", 128),
            region=self.region,
            account_id=ACCOUNT_ID,
        )
        stack.attributes[(logical_id, "Arn")] = function.arn
        stack.functions[logical_id] = function

    def _register_event_source(self, stack: DeployedStack, props: dict) -> None:
        source_arn = self.resolve(stack, props["EventSourceArn"])
        if ":sqs:" not in source_arn:
            raise UnsupportedTemplateError(f"event source {source_arn}: only SQS is delivered")
        function = stack.functions[props["FunctionName"]["Ref"]]
        queue_url = self.client("sqs").get_queue_url(QueueName=source_arn.rsplit(":", 1)[1])
        self.sqs_sources.append(
            SqsEventSource(
                function=function,
                queue_url=queue_url["QueueUrl"],
                queue_arn=source_arn,
                batch_size=props.get("BatchSize", 10),
                reports_batch_item_failures="ReportBatchItemFailures"
                in props.get("FunctionResponseTypes", []),
            )
        )

    def _register_routes(self, stack: DeployedStack) -> None:
        # moto's CloudFormation skips AWS::ApiGatewayV2::*; routes are read from the template.
        template = stack.template
        integrations = {
            logical_id: self.resolve(stack, resource["Properties"]["IntegrationUri"])
            for logical_id, resource in template.of_type("AWS::ApiGatewayV2::Integration").items()
        }
        functions_by_arn = {function.arn: function for function in stack.functions.values()}
        for resource in template.of_type("AWS::ApiGatewayV2::Route").values():
            props = resource["Properties"]
            integration_id = next(
                part["Ref"]
                for part in props["Target"]["Fn::Join"][1]
                if isinstance(part, dict) and "Ref" in part
            )
            stack.routes[props["RouteKey"]] = functions_by_arn[integrations[integration_id]]

    # -- intrinsic functions ---------------------------------------------------------------

    def resolve(self, stack: DeployedStack, value: Any) -> Any:
        """Resolve Ref, Fn::GetAtt, Fn::Join and pseudo parameters against deployed ids."""
        if isinstance(value, list):
            return [self.resolve(stack, item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(stack, item) for key, item in value.items()}
        ((key, argument),) = value.items()
        if key == "Ref":
            pseudo = {
                "AWS::Region": self.region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": stack.template.name,
            }
            if argument in pseudo:
                return pseudo[argument]
            return stack.physical_ids[argument]
        if key == "Fn::GetAtt":
            logical_id, attribute = argument
            return stack.attributes[(logical_id, attribute)]
        if key == "Fn::Join":
            separator, parts = argument
            return separator.join(str(self.resolve(stack, part)) for part in parts)
        if key.startswith("Fn::"):
            raise UnsupportedTemplateError(f"{key} is not supported yet: {value}")
        return {key: self.resolve(stack, argument)}

    # -- use ------------------------------------------------------------------------------

    def function(self, stack_name: str, logical_id: str) -> LocalFunction:
        return self.deployed[stack_name].functions[logical_id]

    def invoke(self, stack_name: str, logical_id: str, event: Any, *, trigger: str = "Invoke"):
        """Invoke a function directly (RequestResponse); returns the `Invocation`."""
        return self._invoke(self.function(stack_name, logical_id), event, trigger)

    def _invoke(self, function: LocalFunction, event: Any, trigger: str) -> Invocation:
        invocation = self.runner.invoke(function, event, trigger=trigger)
        self.invocations.append(invocation)
        return invocation

    def request(
        self,
        stack_name: str,
        method: str,
        path: str,
        *,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> HttpResponse:
        """Send an HTTP request to the stack's HTTP API, as API Gateway (payload 2.0) would."""
        matched = _find_route(self.deployed[stack_name].routes, method, path)
        if matched is None:
            return HttpResponse(
                404, {"content-type": "application/json"}, '{"message":"Not Found"}'
            )
        route_key, function, path_parameters = matched
        event = _http_api_event(route_key, method, path, path_parameters, body, headers, query)
        invocation = self._invoke(function, event, f"HTTP {method} {path}")
        if invocation.error is not None:
            return HttpResponse(
                500, {"content-type": "application/json"}, '{"message":"Internal Server Error"}'
            )
        return _http_response(invocation.payload)

    def settle(self, *, max_rounds: int = 1000) -> int:
        """Deliver pending SQS messages to their consumers until every queue is quiet.

        A failed message is made visible again at once (its visibility timeout is taken to
        have passed), so redeliveries and the redrive to a DLQ happen within one call.
        Returns the number of consumer invocations.
        """
        invocations = 0
        for _ in range(max_rounds):
            delivered = False
            for source in self.sqs_sources:
                messages = self._receive(source)
                if not messages:
                    continue
                delivered = True
                invocations += 1
                self._deliver(source, messages)
            if not delivered:
                return invocations
        raise RuntimeError(f"queues still busy after {max_rounds} rounds")

    def _receive(self, source: SqsEventSource) -> list[dict]:
        sqs = self.client("sqs")
        messages: list[dict] = []
        while len(messages) < source.batch_size:
            batch = sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(10, source.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        return messages

    def _deliver(self, source: SqsEventSource, messages: list[dict]) -> None:
        event = {
            "Records": [_sqs_record(message, source.queue_arn, self.region) for message in messages]
        }
        queue_name = source.queue_arn.rsplit(":", 1)[1]
        invocation = self._invoke(source.function, event, f"SQS {queue_name}")
        failed = failed_message_ids(invocation, source, {m["MessageId"] for m in messages})
        sqs = self.client("sqs")
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=source.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            else:
                sqs.delete_message(
                    QueueUrl=source.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


def failed_message_ids(invocation: Invocation, source: SqsEventSource, batch: set[str]) -> set[str]:
    """Which messages go back to the queue, by Lambda's rules for SQS sources."""
    if invocation.error is not None:
        return batch
    if not source.reports_batch_item_failures:
        return set()
    response = invocation.payload
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()  # null, empty or no failures: the whole batch succeeded
    failed = set()
    for failure in response["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch:
            return batch  # a malformed failure report fails the whole batch, as on AWS
        failed.add(identifier)
    return failed


def _sqs_record(message: dict, queue_arn: str, region: str) -> dict:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            key: attributes[key]
            for key in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
            )
            if key in attributes
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _find_route(
    routes: dict[str, LocalFunction], method: str, path: str
) -> tuple[str, LocalFunction, dict[str, str]] | None:
    for route_key, function in routes.items():
        path_parameters = match_route(route_key, method, path)
        if path_parameters is not None:
            return route_key, function, path_parameters
    return None


def match_route(route_key: str, method: str, path: str) -> dict[str, str] | None:
    route_method, _, route_path = route_key.partition(" ")
    if route_method not in (method.upper(), "ANY"):
        return None
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route_path))
    match = re.fullmatch(pattern, path)
    return match.groupdict() if match else None


def _http_api_event(
    route_key: str,
    method: str,
    path: str,
    path_parameters: dict[str, str],
    body: str | bytes | None,
    headers: dict[str, str] | None,
    query: dict[str, str] | None,
) -> dict:
    headers = {key.lower(): value for key, value in (headers or {}).items()}
    is_binary = isinstance(body, bytes)
    if body is not None:
        headers.setdefault(
            "content-length", str(len(body.encode() if isinstance(body, str) else body))
        )
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"host": "localhost", "user-agent": "localcloud", **headers},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "localcloud",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_binary,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if is_binary else body
    return event


def _http_response(payload: Any) -> HttpResponse:
    """Map a payload-2.0 Lambda response to HTTP as API Gateway does."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        # A bare value is taken as a 200 JSON body.
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(payload))
    body = payload.get("body") or ""
    if payload.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    headers = {key.lower(): str(value) for key, value in (payload.get("headers") or {}).items()}
    return HttpResponse(int(payload["statusCode"]), headers, body)
