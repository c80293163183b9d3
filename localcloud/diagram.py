"""Draws a stack's wiring as a Mermaid flowchart, from its synthesized template alone.

`localcloud diagram STACK` prints what is connected to what: event sources, subscriptions,
redrive, API routes, S3 notifications, rule targets, state machine tasks, failure destinations,
the grants of each function's role, and the alarms on those resources. A node is one resource a
reader would name (a function, a queue, a table...), labelled by its construct path; CDK's
plumbing (roles, policies, log groups, permissions, its own helper functions) is left out.
The same template always gives the same text, so a page can hold the output and a test can
check it is still current.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from localcloud.core.assembly import StackTemplate

# How each kind of node is drawn: (id prefix, Mermaid opening and closing, what it is).
_SHAPES: dict[str, tuple[str, str, str, str]] = {
    "function": ("fn", "[", "]", "Lambda function"),
    "queue": ("queue", "[[", "]]", "SQS queue"),
    "dead_letter_queue": ("dlq", "[[", "]]", "SQS dead-letter queue"),
    "topic": ("topic", "{{", "}}", "SNS topic"),
    "table": ("table", "[(", ")]", "DynamoDB table"),
    "stream": ("stream", ">", "]", "Kinesis stream"),
    "bucket": ("bucket", "[/", "\\]", "S3 bucket"),
    "http_api": ("api", "([", "])", "HTTP API"),
    "rest_api": ("api", "([", "])", "REST API"),
    "state_machine": ("sm", "(", ")", "state machine"),
    "rule": ("rule", "[/", "/]", "EventBridge rule"),
    "cloud_map_service": ("service", "[\\", "\\]", "Cloud Map service"),
    "glue_table": ("glue", "[(", ")]", "Glue table"),
}

_KIND_BY_TYPE = {
    "AWS::Lambda::Function": "function",
    "AWS::SQS::Queue": "queue",
    "AWS::SNS::Topic": "topic",
    "AWS::DynamoDB::Table": "table",
    "AWS::DynamoDB::GlobalTable": "table",
    "AWS::Kinesis::Stream": "stream",
    "AWS::S3::Bucket": "bucket",
    "AWS::ApiGatewayV2::Api": "http_api",
    "AWS::ApiGateway::RestApi": "rest_api",
    "AWS::StepFunctions::StateMachine": "state_machine",
    "AWS::Events::Rule": "rule",
    "AWS::ServiceDiscovery::Service": "cloud_map_service",
    "AWS::Glue::Table": "glue_table",
}

# Functions CDK adds for itself (log retention, custom resource providers, the S3 notification
# handler, bucket deployments): named by a fixed construct id in their path.
_PLUMBING = re.compile(
    r"(LogRetention|BucketNotificationsHandler|AWS)[0-9a-f]{32}"
    r"|CustomResourceProvider|/Provider/framework-|CDKBucketDeployment|CustomS3AutoDelete"
)
_LOGICAL_ID_HASH = re.compile(r"[0-9A-F]{8}$")

# Last construct ids that only repeat the kind (`Orders/Queue`): the label keeps the parent.
_GENERIC_IDS = {
    "Resource",
    "Default",
    "Function",
    "Handler",
    "Queue",
    "Topic",
    "Table",
    "Bucket",
    "Stream",
    "StateMachine",
    "Rule",
    "Api",
    "HttpApi",
    "RestApi",
    "Service",
}

# Edge styles: a solid arrow carries the pattern's traffic, a dotted one its failures and alarms.
_SOLID, _DOTTED = "-->", "-.->"


@dataclass
class Node:
    logical_id: str
    kind: str
    id: str
    name: str
    detail: str

    def render(self) -> str:
        _, opening, closing, _ = _SHAPES[self.kind]
        label = self.name if not self.detail else f"{self.name}<br/>{self.detail}"
        return f'{self.id}{opening}"{_escape(label)}"{closing}'


@dataclass
class Edge:
    """An arrow; `sources` gathers every source of alike arrows, written as one line."""

    source: str
    target: str
    label: str
    style: str = _SOLID
    sources: list[str] = field(default_factory=list)


# Edge groups, in the order they are written: what triggers work, then where failures go,
# then what each function may touch, then the alarms.
_TRIGGERS, _FAILURES, _GRANTS, _ALARMS = range(4)


class Diagram:
    """The nodes and edges of one stack (see the module docstring)."""

    def __init__(self, stack: StackTemplate) -> None:
        self.stack = stack
        self.resources = stack.resources
        self.paths = construct_paths(stack)
        self.nodes: dict[str, Node] = {}
        self.edges: list[tuple[int, Edge]] = []
        # A function's versions and aliases (how a durable function is invoked) lead to it.
        self._function_of_name = {
            logical_id: ref
            for logical_id, resource in self.resources.items()
            if resource["Type"] in ("AWS::Lambda::Version", "AWS::Lambda::Alias")
            for ref in _refs((resource.get("Properties") or {}).get("FunctionName"))[:1]
        }
        self._dead_letter_queues = self._find_dead_letter_queues()
        self._make_nodes()
        self._event_source_mappings()
        self._subscriptions()
        self._redrive()
        self._http_apis()
        self._rest_apis()
        self._s3_notifications()
        self._rules()
        self._state_machines()
        self._function_failures()
        self._glue_locations()
        self._grants()
        self._alarms()

    # -- nodes ---------------------------------------------------------------------------

    def _find_dead_letter_queues(self) -> set[str]:
        found: set[str] = set()
        for resource in self.resources.values():
            props = resource.get("Properties") or {}
            if resource["Type"] == "AWS::SQS::Queue":
                found.update(_refs((props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")))
            if resource["Type"] == "AWS::Lambda::Function":
                found.update(_refs((props.get("DeadLetterConfig") or {}).get("TargetArn")))
            if resource["Type"] == "AWS::Events::Rule":
                for target in props.get("Targets") or []:
                    found.update(_refs((target.get("DeadLetterConfig") or {}).get("Arn")))
        return found

    def _make_nodes(self) -> None:
        taken: set[str] = set()
        for logical_id, resource in self.resources.items():
            kind = _KIND_BY_TYPE.get(resource["Type"])
            if kind is None or (kind == "function" and self._is_plumbing(logical_id)):
                continue
            if kind == "queue" and logical_id in self._dead_letter_queues:
                kind = "dead_letter_queue"
            segments = self._label_segments(logical_id, resource)
            node_id = f"{_SHAPES[kind][0]}_{_snake('_'.join(segments))}"
            unique, number = node_id, 2
            while unique in taken:
                unique, number = f"{node_id}_{number}", number + 1
            taken.add(unique)
            self.nodes[logical_id] = Node(
                logical_id, kind, unique, " / ".join(segments), self._detail(kind, resource)
            )

    def _is_plumbing(self, logical_id: str) -> bool:
        return bool(_PLUMBING.search(self.paths.get(logical_id, logical_id)))

    def _label_segments(self, logical_id: str, resource: dict[str, Any]) -> list[str]:
        path = self.paths.get(logical_id)
        if not path:
            # A logical id without its path: CDK's 8-character hash suffix is not a name.
            return [_LOGICAL_ID_HASH.sub("", logical_id) or logical_id]
        segments = path.split("/")[1:]
        while segments and segments[-1] in ("Resource", "Default"):
            segments.pop()
        # A pattern construct named after its stack (`PubSub/PubSub/...`) says nothing new.
        while len(segments) > 1 and segments[0] == self.stack.name:
            segments.pop(0)
        if len(segments) > 1 and segments[-1] in _GENERIC_IDS:
            segments.pop()
        return segments or [logical_id]

    def _detail(self, kind: str, resource: dict[str, Any]) -> str:
        props = resource.get("Properties") or {}
        what = _SHAPES[kind][3]
        if kind == "function":
            handler = props.get("Handler") or what
            timeout = (props.get("DurableConfig") or {}).get("ExecutionTimeout")
            return f"{handler}, durable up to {_duration(timeout)}" if timeout else handler
        if props.get("FifoQueue") or props.get("FifoTopic"):
            return f"{what}, FIFO"
        if kind == "table":
            keys = [key["AttributeName"] for key in props.get("KeySchema") or []]
            detail = f"{what}, key {', '.join(keys)}" if keys else what
            if props.get("TimeToLiveSpecification", {}).get("Enabled"):
                detail += f", TTL {props['TimeToLiveSpecification']['AttributeName']}"
            return detail
        if kind == "stream":
            mode = (props.get("StreamModeDetails") or {}).get("StreamMode")
            if mode == "ON_DEMAND":
                return f"{what}, on demand"
            if "ShardCount" in props:
                return f"{what}, {_count(int(props['ShardCount']), 'shard')}"
            return what
        if kind == "state_machine":
            return f"Step Functions, {props.get('StateMachineType', 'STANDARD')}"
        if kind == "rule":
            return self._rule_detail(props)
        if kind == "cloud_map_service":
            namespace = self._namespace_name(props)
            instances = sum(
                1
                for other in self.resources.values()
                if other["Type"] == "AWS::ServiceDiscovery::Instance"
                and self._logical_id_in((other.get("Properties") or {}).get("ServiceId"))
                == self._logical_id_of(resource)
            )
            name = props.get("Name", "")
            where = f"{name}.{namespace}" if namespace else name
            return f"{what} {where}, {_count(instances, 'instance')}".replace("  ", " ")
        if kind == "glue_table":
            table_input = props.get("TableInput") or {}
            database = self._literal_or_name(props.get("DatabaseName"))
            return f"{what} {database}.{table_input.get('Name', '')}"
        return what

    def _rule_detail(self, props: dict[str, Any]) -> str:
        if props.get("ScheduleExpression"):
            return f"EventBridge schedule {props['ScheduleExpression']}"
        pattern = props.get("EventPattern") or {}
        if isinstance(pattern, str):
            pattern = json.loads(pattern)
        parts = []
        for key in ("source", "detail-type"):
            if key in pattern:
                parts.append(f"{key} {', '.join(map(str, pattern[key]))}")
        others = sorted(key for key in pattern if key not in ("source", "detail-type"))
        if others:
            parts.append(f"on {', '.join(others)}")
        return "EventBridge rule" + (f"<br/>{'<br/>'.join(parts)}" if parts else "")

    def _namespace_name(self, props: dict[str, Any]) -> str:
        namespace_id = props.get("NamespaceId") or (props.get("DnsConfig") or {}).get("NamespaceId")
        logical_id = self._logical_id_in(namespace_id)
        if logical_id is None:
            return ""
        return (self.resources[logical_id].get("Properties") or {}).get("Name", "")

    def _literal_or_name(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        logical_id = self._logical_id_in(value)
        if logical_id is None:
            return "?"
        props = self.resources[logical_id].get("Properties") or {}
        return (props.get("DatabaseInput") or {}).get("Name", logical_id)

    def _logical_id_of(self, resource: dict[str, Any]) -> str:
        return next(key for key, value in self.resources.items() if value is resource)

    def _logical_id_in(self, value: Any) -> str | None:
        return next((ref for ref in _refs(value) if ref in self.resources), None)

    def node_in(self, value: Any) -> Node | None:
        """The first node a template value refers to (Ref, GetAtt, Sub, Join...)."""
        for ref in _refs(value):
            ref = self._function_of_name.get(ref, ref)
            if ref in self.nodes:
                return self.nodes[ref]
        return None

    def _of_type(self, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource["Type"] == resource_type:
                yield logical_id, resource.get("Properties") or {}

    def _add(
        self, group: int, source: Node | None, target: Node | None, label: str, style: str = _SOLID
    ) -> None:
        if source is None or target is None:
            return
        self.edges.append((group, Edge(source.id, target.id, label, style)))

    # -- wiring --------------------------------------------------------------------------

    def _event_source_mappings(self) -> None:
        for _, props in self._of_type("AWS::Lambda::EventSourceMapping"):
            function = self.node_in(props.get("FunctionName"))
            source = self.node_in(props.get("EventSourceArn")) or self._stream_of_consumer(
                props.get("EventSourceArn")
            )
            self._add(_TRIGGERS, source, function, _mapping_label(props))
            destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            )
            self._add(_FAILURES, function, self.node_in(destination), "failed batches", _DOTTED)

    def _stream_of_consumer(self, value: Any) -> Node | None:
        logical_id = self._logical_id_in(value)
        if logical_id is None:
            return None
        consumer = self.resources[logical_id]
        if consumer["Type"] != "AWS::Kinesis::StreamConsumer":
            return None
        return self.node_in((consumer.get("Properties") or {}).get("StreamARN"))

    def _subscriptions(self) -> None:
        for _, props in self._of_type("AWS::SNS::Subscription"):
            topic = self.node_in(props.get("TopicArn"))
            endpoint = self.node_in(props.get("Endpoint"))
            self._add(_TRIGGERS, topic, endpoint, _subscription_label(props))
        # A topic can also list its subscriptions itself.
        for logical_id, props in self._of_type("AWS::SNS::Topic"):
            for subscription in props.get("Subscription") or []:
                self._add(
                    _TRIGGERS,
                    self.nodes.get(logical_id),
                    self.node_in(subscription.get("Endpoint")),
                    subscription.get("Protocol", ""),
                )

    def _redrive(self) -> None:
        for logical_id, props in self._of_type("AWS::SQS::Queue"):
            redrive = props.get("RedrivePolicy") or {}
            if not redrive:
                continue
            count = redrive.get("maxReceiveCount")
            label = f"after {_count(int(count), 'receive')}" if count is not None else "redrive"
            self._add(
                _FAILURES,
                self.nodes.get(logical_id),
                self.node_in(redrive.get("deadLetterTargetArn")),
                label,
                _DOTTED,
            )

    def _http_apis(self) -> None:
        integrations = dict(self._of_type("AWS::ApiGatewayV2::Integration"))
        routes: dict[tuple[str, str], list[str]] = {}
        for _, props in self._of_type("AWS::ApiGatewayV2::Route"):
            api = self.node_in(props.get("ApiId"))
            integration_id = next(
                (ref for ref in _refs(props.get("Target")) if ref in integrations), None
            )
            if api is None or integration_id is None:
                continue
            integration = integrations[integration_id]
            target = self.node_in(integration.get("IntegrationUri")) or self.node_in(
                integration.get("RequestParameters")
            )
            if target is None:
                continue
            route = props["RouteKey"]
            authorization = props.get("AuthorizationType", "NONE")
            if authorization != "NONE":
                route += f" ({authorization})"
            routes.setdefault((api.logical_id, target.logical_id), []).append(route)
        for (api_id, target_id), keys in routes.items():
            self._add(_TRIGGERS, self.nodes[api_id], self.nodes[target_id], "<br/>".join(keys))

    def _rest_apis(self) -> None:
        paths = self._rest_paths()
        routes: dict[tuple[str, str], list[str]] = {}
        for _, props in self._of_type("AWS::ApiGateway::Method"):
            api = self.node_in(props.get("RestApiId"))
            integration = props.get("Integration") or {}
            target = self.node_in(integration.get("Uri")) or self.node_in(
                integration.get("RequestTemplates")
            )
            if api is None or target is None:
                continue
            resource_id = props.get("ResourceId")
            path = paths.get(self._logical_id_in(resource_id) or "", "/")
            route = f"{props.get('HttpMethod', 'ANY')} {path}"
            authorization = props.get("AuthorizationType", "NONE")
            if authorization != "NONE":
                route += f" ({authorization})"
            routes.setdefault((api.logical_id, target.logical_id), []).append(route)
        for (api_id, target_id), keys in routes.items():
            self._add(_TRIGGERS, self.nodes[api_id], self.nodes[target_id], "<br/>".join(keys))

    def _rest_paths(self) -> dict[str, str]:
        parts = dict(self._of_type("AWS::ApiGateway::Resource"))

        def path(logical_id: str, depth: int = 0) -> str:
            props = parts[logical_id]
            parent = self._logical_id_in(props.get("ParentId"))
            prefix = path(parent, depth + 1) if parent in parts and depth < 50 else ""
            return f"{prefix.rstrip('/')}/{props.get('PathPart', '')}"

        return {logical_id: path(logical_id) for logical_id in parts}

    def _s3_notifications(self) -> None:
        configured: list[tuple[Any, dict[str, Any]]] = [
            (props.get("BucketName"), props.get("NotificationConfiguration") or {})
            for _, props in self._of_type("Custom::S3BucketNotifications")
        ]
        configured += [
            ({"Ref": logical_id}, props.get("NotificationConfiguration") or {})
            for logical_id, props in self._of_type("AWS::S3::Bucket")
        ]
        for bucket_ref, configuration in configured:
            bucket = self.node_in(bucket_ref)
            for key, arn_key in (
                ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
                ("QueueConfigurations", "QueueArn"),
                ("TopicConfigurations", "TopicArn"),
                ("LambdaConfigurations", "Function"),
                ("QueueConfigurations", "Queue"),
                ("TopicConfigurations", "Topic"),
            ):
                for notification in configuration.get(key) or []:
                    if arn_key not in notification:
                        continue
                    self._add(
                        _TRIGGERS,
                        bucket,
                        self.node_in(notification[arn_key]),
                        _notification_label(notification),
                    )

    def _rules(self) -> None:
        for logical_id, props in self._of_type("AWS::Events::Rule"):
            rule = self.nodes.get(logical_id)
            for target in props.get("Targets") or []:
                label = "event"
                if target.get("InputTransformer"):
                    label = "transformed input"
                elif "Input" in target:
                    label = "fixed input"
                elif "InputPath" in target:
                    label = f"input {target['InputPath']}"
                target_node = self.node_in(target.get("Arn"))
                self._add(_TRIGGERS, rule, target_node, label)
                dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
                self._add(_FAILURES, rule, self.node_in(dead_letter), "undelivered events", _DOTTED)

    def _state_machines(self) -> None:
        for logical_id, props in self._of_type("AWS::StepFunctions::StateMachine"):
            machine = self.nodes.get(logical_id)
            definition = _definition(props)
            if machine is None or definition is None:
                continue
            tasks: dict[str, list[str]] = {}
            for state_name, state in _states(definition):
                if state.get("Type") != "Task":
                    continue
                resource = str(state.get("Resource", ""))
                action = resource.split(":::", 1)[1] if ":::" in resource else "invoke"
                found = _placeholders(resource) or _placeholders(
                    json.dumps([state.get("Parameters"), state.get("Arguments")])
                )
                found = [self._function_of_name.get(ref, ref) for ref in found]
                target = next((self.nodes[ref] for ref in found if ref in self.nodes), None)
                if target is not None:
                    tasks.setdefault(target.logical_id, []).append(f"{state_name}: {action}")
            for target_id, labels in tasks.items():
                self._add(_TRIGGERS, machine, self.nodes[target_id], "<br/>".join(labels))

    def _function_failures(self) -> None:
        for logical_id, props in self._of_type("AWS::Lambda::Function"):
            dead_letter = (props.get("DeadLetterConfig") or {}).get("TargetArn")
            self._add(
                _FAILURES,
                self.nodes.get(logical_id),
                self.node_in(dead_letter),
                "failed async events",
                _DOTTED,
            )
        for _, props in self._of_type("AWS::Lambda::EventInvokeConfig"):
            function = self.node_in(props.get("FunctionName"))
            destinations = props.get("DestinationConfig") or {}
            for key, label, style in (
                ("OnSuccess", "async result", _SOLID),
                ("OnFailure", "failed async events", _DOTTED),
            ):
                destination = (destinations.get(key) or {}).get("Destination")
                self._add(_FAILURES, function, self.node_in(destination), label, style)

    def _glue_locations(self) -> None:
        for logical_id, props in self._of_type("AWS::Glue::Table"):
            descriptor = (props.get("TableInput") or {}).get("StorageDescriptor") or {}
            location = descriptor.get("Location")
            bucket = self.node_in(location)
            if bucket is None or bucket.kind != "bucket":
                continue
            suffix = _literal_tail(location)
            self._add(_TRIGGERS, self.nodes.get(logical_id), bucket, f"data at {suffix or '/'}")

    def _grants(self) -> None:
        functions_by_role: dict[str, list[Node]] = {}
        for logical_id, props in self._of_type("AWS::Lambda::Function"):
            role = self._logical_id_in(props.get("Role"))
            if role is not None and logical_id in self.nodes:
                functions_by_role.setdefault(role, []).append(self.nodes[logical_id])
        statements: list[tuple[str, dict[str, Any]]] = []
        for _, props in self._of_type("AWS::IAM::Policy"):
            for role in _refs(props.get("Roles")):
                for statement in (props.get("PolicyDocument") or {}).get("Statement") or []:
                    statements.append((role, statement))
        for role, props in self._of_type("AWS::IAM::Role"):
            for policy in props.get("Policies") or []:
                for statement in (policy.get("PolicyDocument") or {}).get("Statement") or []:
                    statements.append((role, statement))
        granted: dict[tuple[str, str], set[str]] = {}
        for role, statement in statements:
            if statement.get("Effect", "Allow") != "Allow":
                continue
            actions = _as_list(statement.get("Action"))
            resources = _as_list(statement.get("Resource"))
            for function in functions_by_role.get(role, []):
                for resource in resources:
                    node = self.node_in(resource)
                    if node is None:
                        continue
                    verbs = granted.setdefault((function.logical_id, node.logical_id), set())
                    verbs.update(_verbs(actions, node.kind, resource))
        triggered = {(edge.target, edge.source) for group, edge in self.edges if group == _TRIGGERS}
        failing = {(edge.source, edge.target) for group, edge in self.edges if group == _FAILURES}
        for (function_id, node_id), verbs in granted.items():
            function, node = self.nodes[function_id], self.nodes[node_id]
            # What an event source or a failure destination needs is drawn already.
            if (function.id, node.id) in triggered:
                verbs -= {"consume", "read stream"}
            if (function.id, node.id) in failing:
                verbs -= {"send", "publish", "invoke"}
            if function_id == node_id or not verbs:
                continue
            self._add(_GRANTS, function, node, _summarize(verbs))

    def _alarms(self) -> None:
        for _, props in self._of_type("AWS::CloudWatch::Alarm"):
            watched = self.node_in(props.get("Dimensions"))
            if watched is None or props.get("Metrics"):
                continue
            comparison = _COMPARISONS.get(props.get("ComparisonOperator", ""), "?")
            label = f"{props.get('MetricName')} {comparison} {_number(props.get('Threshold'))}"
            for action in _as_list(props.get("AlarmActions")):
                self._add(_ALARMS, watched, self.node_in(action), label, _DOTTED)

    # -- text ----------------------------------------------------------------------------

    def render(self) -> str:
        """The Mermaid text: nodes in template order, then edges by group."""
        order = {node.id: index for index, node in enumerate(self.nodes.values())}
        merged: dict[tuple[int, str, str, str], Edge] = {}
        seen: set[tuple[str, str, str, str]] = set()
        for group, edge in self.edges:
            if (edge.source, edge.target, edge.label, edge.style) in seen:
                continue
            seen.add((edge.source, edge.target, edge.label, edge.style))
            key = (group, edge.target, edge.label, edge.style)
            merged.setdefault(key, Edge(edge.source, edge.target, edge.label, edge.style))
            merged[key].sources.append(edge.source)
        edges = sorted(
            merged.items(),
            key=lambda item: (
                item[0][0],
                min(order[source] for source in item[1].sources),
                order[item[1].target],
                item[1].label,
            ),
        )
        used = {source for _, edge in edges for source in edge.sources} | {
            edge.target for _, edge in edges
        }
        lines = ["flowchart LR"]
        lines += [f"    {node.render()}" for node in self.nodes.values() if node.id in used]
        lines += [
            f'    {_sources(edge)} {edge.style}|"{_escape(edge.label)}"| {edge.target}'
            for _, edge in edges
        ]
        lines += [f"    {node.render()}" for node in self.nodes.values() if node.id not in used]
        return "\n".join(lines) + "\n"


def render(stack: StackTemplate) -> str:
    """The Mermaid flowchart of a synthesized stack's wiring (see the module docstring)."""
    return Diagram(stack).render()


# -- helpers ---------------------------------------------------------------------------------

_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside band",
    "LessThanLowerThreshold": "below band",
    "GreaterThanUpperThreshold": "above band",
}


def _duration(seconds: Any) -> str:
    """`3600` as "1h", `90` as "90s": a durable function's execution timeout, for its label."""
    if not isinstance(seconds, int):
        return str(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _refs(value: Any) -> list[str]:
    """The logical ids a template value refers to, in order (pseudo parameters left out)."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if "Ref" in item and isinstance(item["Ref"], str):
                found.append(item["Ref"])
            elif "Fn::GetAtt" in item:
                target = item["Fn::GetAtt"]
                found.append(target[0] if isinstance(target, list) else target.split(".")[0])
            elif "Fn::Sub" in item:
                template = item["Fn::Sub"]
                text = template[0] if isinstance(template, list) else template
                found.extend(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(template, list):
                    walk(template[1:])
            else:
                for nested in item.values():
                    walk(nested)
        elif isinstance(item, list):
            for nested in item:
                walk(nested)

    walk(value)
    return [ref for ref in found if not ref.startswith("AWS::")]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def construct_paths(stack: StackTemplate) -> dict[str, str]:
    """Each resource's construct path (`Stack/Construct/.../Resource`), by logical id.

    The CDK CLI writes it into the template (`Metadata.aws:cdk:path`); a synth without the CLI
    does not, but the assembly's metadata maps every logical id to its path either way.
    """
    paths: dict[str, str] = {}
    manifest_path = stack.assembly_dir / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            if artifact.get("displayName", artifact_id) != stack.name:
                continue
            metadata = dict(artifact.get("metadata") or {})
            extra = artifact.get("additionalMetadataFile")
            if extra and (stack.assembly_dir / extra).is_file():
                metadata.update(json.loads((stack.assembly_dir / extra).read_text()))
            for path, entries in metadata.items():
                for entry in entries:
                    if entry.get("type") == "aws:cdk:logicalId":
                        paths[entry["data"]] = path.lstrip("/")
    for logical_id, resource in stack.resources.items():
        path = (resource.get("Metadata") or {}).get("aws:cdk:path")
        if path:
            paths[logical_id] = path
    return paths


def _snake(text: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "node"


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sources(edge: Edge) -> str:
    return " & ".join(edge.sources)


def _mapping_label(props: dict[str, Any]) -> str:
    parts = []
    if "BatchSize" in props:
        parts.append(f"batch {props['BatchSize']}")
    if props.get("MaximumBatchingWindowInSeconds"):
        parts.append(f"window {props['MaximumBatchingWindowInSeconds']} s")
    if props.get("StartingPosition"):
        parts.append(f"from {props['StartingPosition']}")
    if "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []):
        parts.append("partial failures")
    if props.get("BisectBatchOnFunctionError"):
        parts.append("bisect on error")
    if "MaximumRetryAttempts" in props:
        retries = int(props["MaximumRetryAttempts"])
        parts.append("1 retry" if retries == 1 else f"{retries} retries")
    if props.get("MaximumRecordAgeInSeconds") not in (None, -1):
        parts.append(f"max age {props['MaximumRecordAgeInSeconds']} s")
    if props.get("ParallelizationFactor", 1) != 1:
        parts.append(f"parallel {props['ParallelizationFactor']}")
    if props.get("TumblingWindowInSeconds"):
        parts.append(f"tumbling {props['TumblingWindowInSeconds']} s")
    if props.get("FilterCriteria"):
        parts.append("filtered")
    if props.get("Enabled") is False:
        parts.append("disabled")
    return ", ".join(parts) or "events"


def _subscription_label(props: dict[str, Any]) -> str:
    lines = [props.get("Protocol", "")]
    policy = props.get("FilterPolicy")
    if isinstance(policy, str):
        policy = json.loads(policy)
    if policy:
        scope = "body" if props.get("FilterPolicyScope") == "MessageBody" else "attributes"
        lines = [f"filter on {scope}:"]
        lines += [f"{key} {_condition(value)}" for key, value in policy.items()]
    if str(props.get("RawMessageDelivery", "")).lower() == "true":
        lines.append("raw delivery")
    return "<br/>".join(line for line in lines if line)


def _condition(value: Any) -> str:
    """An SNS filter policy condition, as a reader would say it."""
    if isinstance(value, dict):
        return " and ".join(_condition_part(key, part) for key, part in value.items())
    if isinstance(value, list):
        return " or ".join(_condition(item) for item in value)
    return json.dumps(value) if not isinstance(value, str) else value


def _condition_part(operator: str, operand: Any) -> str:
    if operator == "numeric":
        pairs = [
            f"{operand[index]} {_number(operand[index + 1])}"
            for index in range(0, len(operand) - 1, 2)
        ]
        return " and ".join(pairs)
    if operator == "exists":
        return "exists" if operand else "absent"
    if operator == "anything-but":
        return f"not {_condition(operand)}"
    return f"{operator} {_condition(operand)}"


def _notification_label(notification: dict[str, Any]) -> str:
    events = notification.get("Events") or _as_list(notification.get("Event"))
    lines = [", ".join(event.removeprefix("s3:") for event in events)]
    rules = ((notification.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    filters = [f"{rule['Name'].lower()} {rule['Value']}" for rule in rules]
    if filters:
        lines.append(", ".join(filters))
    return "<br/>".join(line for line in lines if line)


def _literal_tail(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Join" in value:
        parts = value["Fn::Join"][1]
        tail = parts[-1] if parts else ""
        return tail if isinstance(tail, str) else ""
    return ""


def _definition(props: dict[str, Any]) -> dict[str, Any] | None:
    """A state machine's definition, with each reference replaced by a placeholder."""
    if isinstance(props.get("Definition"), dict):
        text = json.dumps(_with_tokens(props["Definition"]))
    else:
        text = _flatten_string(props.get("DefinitionString"))
    if text is None:
        return None
    # `${name}` in the definition stands for the value given in DefinitionSubstitutions.
    for name, value in (props.get("DefinitionSubstitutions") or {}).items():
        refs = _refs(value)
        text = text.replace("${" + name + "}", _token(refs[0]) if refs else str(value))
    try:
        return json.loads(text)
    except ValueError:
        return None


def _with_tokens(value: Any) -> Any:
    if isinstance(value, dict) and set(value) & _INTRINSICS:
        refs = _refs(value)
        return _token(refs[0]) if refs else ""
    if isinstance(value, dict):
        return {key: _with_tokens(nested) for key, nested in value.items()}
    if isinstance(value, list):
        return [_with_tokens(nested) for nested in value]
    return value


_INTRINSICS = {"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::If"}


def _flatten_string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_flatten_string(part) or "" for part in parts)
    if isinstance(value, dict) and "Fn::Sub" in value:
        template = value["Fn::Sub"]
        text = template[0] if isinstance(template, list) else template
        return re.sub(r"\$\{([^}!]+)\}", lambda m: _token(m.group(1).split(".")[0]), text)
    refs = _refs(value)
    return _token(refs[0]) if refs else ""


def _token(logical_id: str) -> str:
    # Placeholders sit inside JSON strings of the definition, so they must stay JSON-safe.
    return f"@@ref:{logical_id}@@"


def _placeholders(text: str) -> list[str]:
    return re.findall(r"@@ref:([A-Za-z0-9]+)@@", text)


def _states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in (definition.get("States") or {}).items():
        yield name, state
        for branch in state.get("Branches") or []:
            yield from _states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                yield from _states(state[key])


_READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Select", "Head")


def _verbs(actions: list[str], kind: str, resource: Any) -> set[str]:
    """What a role's actions let it do to one node, in a reader's words."""
    verbs: set[str] = set()
    stream_arn = isinstance(resource, dict) and "StreamArn" in json.dumps(resource)
    for action in actions:
        service, _, name = str(action).partition(":")
        if service in ("kms", "logs", "xray", "cloudwatch"):
            continue
        if name == "*":
            verbs.add("all")
        elif service == "sns" and name == "Publish":
            verbs.add("publish")
        elif service == "sqs" and name == "SendMessage":
            verbs.add("send")
        elif service == "sqs" and name in ("ReceiveMessage", "DeleteMessage"):
            verbs.add("consume")
        elif service == "lambda" and name.startswith("Invoke"):
            verbs.add("invoke")
        elif service == "states" and name.startswith("Start"):
            verbs.add("start")
        elif service == "dynamodb" and (stream_arn or name in ("DescribeStream", "ListStreams")):
            verbs.add("read stream")
        elif service == "kinesis" and name in ("PutRecord", "PutRecords"):
            verbs.add("put records")
        elif service == "kinesis" and name in ("GetRecords", "SubscribeToShard"):
            verbs.add("read stream")
        elif name.startswith(_READ_PREFIXES) or name in ("ConditionCheckItem",):
            if not (service in ("sqs", "sns", "kinesis", "states") and kind != "table"):
                verbs.add("read")
        elif service in ("dynamodb", "s3", "glue"):
            verbs.add("write")
    if kind == "table" and "read" in verbs:
        verbs.discard("read stream")
    return verbs


def _summarize(verbs: set[str]) -> str:
    order = ["all", "read", "write", "publish", "send", "consume", "put records", "read stream"]
    order += ["invoke", "start"]
    return "/".join(sorted(verbs, key=lambda verb: (order.index(verb), verb)))
