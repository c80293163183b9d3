"""PeerToPeer template: Cloud Map registrations, who may invoke and discover whom, the breaker
table, the guards' settings, alarms and stateful ids."""

from __future__ import annotations

from typing import Any

from infra.config import PeerToPeerConfig
from peer_to_peer import contract
from peer_to_peer.contract import CALL_GRAPH, Service
from tests.synth import CloudAssembly, resources_of_type

STACK = "PeerToPeer"
BREAKER_TABLE = "PeerToPeerBreakerTable5B0176FB"
FUNCTIONS = {
    Service.CHECKOUT: "PeerToPeerCheckoutFunction5F888E2E",
    Service.CATALOG: "PeerToPeerCatalogFunctionF13AC19C",
    Service.PRICING: "PeerToPeerPricingFunctionCD4C6A92",
    Service.STOCK: "PeerToPeerStockFunctionB8BE02B0",
}
STATEFUL_LOGICAL_IDS = {
    BREAKER_TABLE,
    "PeerToPeerCatalogTable0E0B20CB",
    "PeerToPeerPricingTableDEEF7249",
    "PeerToPeerStockTableCEA30D6B",
    "PeerToPeerNamespace1A90BADC",
}


def _template(dev_assembly: CloudAssembly) -> dict[str, Any]:
    return dev_assembly.templates[STACK]


def _role_statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    role = template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in resources_of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _invocable(statements: list[dict[str, Any]]) -> set[str]:
    """The function logical ids a role may invoke."""
    return {
        resource["Fn::GetAtt"][0]
        for statement in statements
        if statement["Action"] == "lambda:InvokeFunction"
        for resource in statement["Resource"]
        if "Fn::GetAtt" in resource
    }


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    stateful = {
        logical_id
        for logical_id, resource in _template(dev_assembly)["Resources"].items()
        if resource["Type"] in {"AWS::DynamoDB::Table", "AWS::ServiceDiscovery::HttpNamespace"}
    }
    assert stateful == STATEFUL_LOGICAL_IDS


def test_each_service_is_registered_in_cloud_map_with_its_function_arn(
    dev_assembly: CloudAssembly,
):
    template = _template(dev_assembly)
    services = {
        logical_id: resource["Properties"]["Name"]
        for logical_id, resource in resources_of_type(
            template, "AWS::ServiceDiscovery::Service"
        ).items()
    }
    registered = {
        services[instance["Properties"]["ServiceId"]["Fn::GetAtt"][0]]: instance["Properties"][
            "InstanceAttributes"
        ][contract.INSTANCE_ATTRIBUTE_FUNCTION_ARN]
        for instance in resources_of_type(template, "AWS::ServiceDiscovery::Instance").values()
    }
    assert registered == {
        service.value: {"Fn::GetAtt": [FUNCTIONS[service], "Arn"]} for service in Service
    }


def test_each_service_may_invoke_and_discover_exactly_the_peers_it_calls(
    dev_assembly: CloudAssembly,
):
    template = _template(dev_assembly)
    for caller, function_id in FUNCTIONS.items():
        statements = _role_statements(template, function_id)
        assert _invocable(statements) == {FUNCTIONS[peer] for peer in CALL_GRAPH[caller]}, caller
        discovery = [s for s in statements if s["Action"] == "servicediscovery:DiscoverInstances"]
        if not CALL_GRAPH[caller]:
            assert discovery == [], caller
            continue
        (statement,) = discovery
        assert statement["Condition"]["StringEquals"] == {
            "servicediscovery:NamespaceName": "peertopeer.peers",
            "servicediscovery:ServiceName": [peer.value for peer in CALL_GRAPH[caller]],
        }


def test_only_callers_reach_the_breaker_table_whose_layout_is_powertools(
    dev_assembly: CloudAssembly,
):
    template = _template(dev_assembly)
    table = template["Resources"][BREAKER_TABLE]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    for service, function_id in FUNCTIONS.items():
        reaches = any(
            statement["Resource"] == {"Fn::GetAtt": [BREAKER_TABLE, "Arn"]}
            for statement in _role_statements(template, function_id)
        )
        assert reaches == bool(CALL_GRAPH[service]), service


def test_the_guards_settings_reach_the_callers_and_timeouts_nest(dev_assembly: CloudAssembly):
    template = _template(dev_assembly)
    defaults = PeerToPeerConfig()
    for service in (Service.CHECKOUT, Service.CATALOG):
        properties = template["Resources"][FUNCTIONS[service]]["Properties"]
        variables = properties["Environment"]["Variables"]
        assert variables[contract.ENV_PEERS] == ",".join(CALL_GRAPH[service])
        assert variables[contract.ENV_CALL_TIMEOUT_MS] == str(defaults.call_timeout_ms)
        assert variables[contract.ENV_FAILURE_THRESHOLD] == str(defaults.failure_threshold)
        assert variables[contract.ENV_COOL_DOWN_SECONDS] == str(defaults.cool_down_seconds)
        assert variables[contract.ENV_MAX_CALL_DEPTH] == str(defaults.max_call_depth)
    timeouts = {
        service: template["Resources"][function_id]["Properties"]["Timeout"]
        for service, function_id in FUNCTIONS.items()
    }
    # A caller outlives the calls it waits for.
    for caller, peers in CALL_GRAPH.items():
        for peer in peers:
            assert timeouts[caller] > timeouts[peer], (caller, peer)


def test_each_caller_alarms_when_one_of_its_circuits_opens(dev_assembly: CloudAssembly):
    alarms = resources_of_type(_template(dev_assembly), "AWS::CloudWatch::Alarm").values()
    circuit_alarms = {
        alarm["Properties"]["Dimensions"][0]["Value"]
        for alarm in alarms
        if alarm["Properties"].get("MetricName") == contract.CIRCUIT_OPENED_METRIC
    }
    assert circuit_alarms == {"peer_to_peer-checkout", "peer_to_peer-catalog"}
