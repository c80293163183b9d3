"""Peer to peer: catalog, pricing, stock and checkout, each a Lambda function that calls its
peers directly (synchronous Invoke), found through Cloud Map, every call guarded."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from infra.config import AppConfig, PeerToPeerConfig
from infra.constructs import AlarmTopic, PythonFunction, Table
from peer_to_peer.contract import (
    CALL_GRAPH,
    CIRCUIT_OPENED_METRIC,
    DATA_OWNERS,
    ENV_BREAKER_TABLE_NAME,
    ENV_CALL_TIMEOUT_MS,
    ENV_COOL_DOWN_SECONDS,
    ENV_DATA_TABLE_NAME,
    ENV_DISCOVERY_TTL_SECONDS,
    ENV_FAILURE_THRESHOLD,
    ENV_MAX_CALL_DEPTH,
    ENV_NAMESPACE_NAME,
    ENV_PEERS,
    ENV_SERVICE,
    INSTANCE_ATTRIBUTE_FUNCTION_ARN,
    Service,
    handler,
)

PATTERN = "peer_to_peer"

#: Powertools publishes the functions' metrics under this namespace with a `service` dimension.
METRICS_NAMESPACE = "ServerlessPatterns"

#: Each service's Lambda timeout: a caller outlives the calls it makes (a leaf answers from
#: one table read; catalog waits for two peers; checkout for three, one of them catalog).
TIMEOUTS = {
    Service.PRICING: Duration.seconds(3),
    Service.STOCK: Duration.seconds(3),
    Service.CATALOG: Duration.seconds(6),
    Service.CHECKOUT: Duration.seconds(10),
}

DESCRIPTIONS = {
    Service.CHECKOUT: "Confirms, rejects or leaves pending an order line; calls catalog, "
    "pricing and stock",
    Service.CATALOG: "Describes a product; calls pricing and stock",
    Service.PRICING: "Prices a product for a quantity",
    Service.STOCK: "Tells the units of a product available",
}


def service_name(service: Service) -> str:
    """Powertools' `service` of a function: the dimension of its metrics."""
    return f"{PATTERN}-{service.value}"


class PeerToPeer(Construct):
    """Four services calling each other by `CALL_GRAPH`, discovered through Cloud Map.

    Defaults:
    - an HTTP namespace (`<stack name>.peers`, lower case) with one Cloud Map service per
      function, whose one instance holds the function's ARN (attribute `function_arn`);
    - one `PythonFunction` per service, its timeout from `TIMEOUTS`; catalog, pricing and stock
      each read their own `Table` (key `pk`, the sku);
    - a caller may invoke exactly the peers it calls, discover exactly those in its namespace,
      and read and write the circuit breaker's table (`Table`, key `id`, TTL `expiration`: the
      item layout of Powertools' `CircuitBreakerDynamoDBPersistence`);
    - the guards come from `settings` (a `PeerToPeerConfig`): the call timeout, the failures
      that open a circuit, its cool-down, the call-depth limit and the discovery TTL;
    - an alarm on each caller's `CircuitOpened` metric, beside every function's errors alarm.

    Attributes: `functions` (Service -> `PythonFunction`), `tables` (Service -> table, for the
    services that own data), `breaker_table`, `namespace`, `cloud_map_services`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        settings: PeerToPeerConfig | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = settings or PeerToPeerConfig()
        self.namespace = servicediscovery.HttpNamespace(
            self,
            "Namespace",
            name=f"{Stack.of(self).stack_name.lower()}.peers",
            description="Where the peer-to-peer services find each other",
        )
        self.breaker_table: dynamodb.Table = Table(
            self,
            "BreakerTable",
            config=config,
            partition_key_name="id",
            time_to_live_attribute="expiration",
        ).table
        self.tables: dict[Service, dynamodb.Table] = {
            service: Table(self, f"{service.value.title()}Table", config=config).table
            for service in DATA_OWNERS
        }
        self.functions: dict[Service, PythonFunction] = {}
        self.cloud_map_services: dict[Service, servicediscovery.Service] = {}
        for service in Service:
            environment = {
                ENV_SERVICE: service.value,
                ENV_MAX_CALL_DEPTH: str(settings.max_call_depth),
            }
            if service in self.tables:
                environment[ENV_DATA_TABLE_NAME] = self.tables[service].table_name
            function = PythonFunction(
                self,
                service.value.title(),
                config=config,
                alarms=alarms,
                pattern=PATTERN,
                handler=handler(service),
                description=DESCRIPTIONS[service],
                service_name=service_name(service),
                metrics_namespace=METRICS_NAMESPACE,
                timeout=TIMEOUTS[service],
                environment=environment,
            )
            if service in self.tables:
                self.tables[service].grant_read_data(function.function)
            self.functions[service] = function
            cloud_map_service = self.namespace.create_service(
                f"{service.value.title()}Service",
                name=service.value,
                description=f"The {service.value} function",
            )
            cloud_map_service.register_non_ip_instance(
                "Instance",
                custom_attributes={INSTANCE_ATTRIBUTE_FUNCTION_ARN: function.function.function_arn},
            )
            self.cloud_map_services[service] = cloud_map_service

        for caller, peers in CALL_GRAPH.items():
            if peers:
                self._let_call(caller, peers, settings)

    def _let_call(
        self, caller: Service, peers: tuple[Service, ...], settings: PeerToPeerConfig
    ) -> None:
        function = self.functions[caller]
        for name, value in {
            ENV_PEERS: ",".join(peer.value for peer in peers),
            ENV_NAMESPACE_NAME: self.namespace.namespace_name,
            ENV_BREAKER_TABLE_NAME: self.breaker_table.table_name,
            ENV_CALL_TIMEOUT_MS: str(settings.call_timeout_ms),
            ENV_FAILURE_THRESHOLD: str(settings.failure_threshold),
            ENV_COOL_DOWN_SECONDS: str(settings.cool_down_seconds),
            ENV_DISCOVERY_TTL_SECONDS: str(settings.discovery_ttl_seconds),
        }.items():
            function.function.add_environment(name, value)
        stack = Stack.of(self)
        for peer in peers:
            peer_function = self.functions[peer].function
            peer_function.grant_invoke(function.function)
            logical_id = stack.resolve(stack.get_logical_id(peer_function.node.default_child))
            Validations.of(function.role).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
                    reason=f"grant_invoke lets {caller.value} invoke {peer.value} and its "
                    "versions and aliases (`:*`), that one function only.",
                )
            )
        self.breaker_table.grant_read_write_data(function.function)
        # DiscoverInstances has no resource-level permissions (Cloud Map's authorization
        # reference lists none); its condition keys limit it to this namespace and these peers.
        function.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["servicediscovery:DiscoverInstances"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "servicediscovery:NamespaceName": self.namespace.namespace_name,
                        "servicediscovery:ServiceName": [peer.value for peer in peers],
                    }
                },
            )
        )
        function.alarm_on_count(
            "CircuitOpenedAlarm",
            metric_name=CIRCUIT_OPENED_METRIC,
            description=f"A circuit of {caller.value} opened: a peer it calls is failing",
        )
