"""Request-response: an HTTP API in front of one Lambda function that reads and writes DynamoDB."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from infra.config import AppConfig
from infra.constructs import AlarmTopic, PythonFunction, Table, add_http_api_to_function
from request_response.contract import (
    API_HANDLER,
    ENV_IDEMPOTENCY_TABLE_NAME,
    ENV_TABLE_NAME,
    ROUTES,
)


class RequestResponse(Construct):
    """HTTP API (API Gateway v2) -> `request_response.api.handler` -> DynamoDB.

    Defaults:
    - stage `$default`, auto-deployed, throttled to `rate_limit` requests/s with bursts of
      `burst_limit`, JSON access logs in a `StageLogGroup` (the stage's retention);
    - an items table (`id` key) and a Powertools idempotency table for `Idempotency-Key`;
    - the function may only read/write those two tables.

    Attributes: `api`, `stage`, `handler` (a `PythonFunction`), `items_table`,
    `idempotency_table`, `access_log_group`, and `url`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        rate_limit: int = 50,
        burst_limit: int = 100,
    ) -> None:
        super().__init__(scope, construct_id)
        self.items_table = Table(self, "ItemsTable", config=config, partition_key_name="id").table
        self.idempotency_table = Table.for_idempotency(
            self, "IdempotencyTable", config=config
        ).table

        self.handler = PythonFunction(
            self,
            "Api",
            config=config,
            alarms=alarms,
            pattern="request_response",
            handler=API_HANDLER,
            description="Items resource API behind the HTTP API",
            timeout=Duration.seconds(10),
            environment={
                ENV_TABLE_NAME: self.items_table.table_name,
                ENV_IDEMPOTENCY_TABLE_NAME: self.idempotency_table.table_name,
            },
        )
        self.items_table.grant_read_write_data(self.handler.function)
        self.idempotency_table.grant_read_write_data(self.handler.function)

        self.http_api = add_http_api_to_function(
            self,
            config=config,
            alarms=alarms,
            function=self.handler.function,
            routes=ROUTES,
            description="Items resource API (request-response pattern)",
            server_error_alarm_description="The items API answered with a 5xx",
            public_because="The sample items API is deliberately public so it can be tried "
            "with curl; docs/patterns/request_response.md shows how to add a JWT authorizer "
            "before serving real data.",
            rate_limit=rate_limit,
            burst_limit=burst_limit,
        )
        self.api, self.stage = self.http_api.api, self.http_api.stage
        self.access_log_group = self.http_api.access_log_group

    @property
    def url(self) -> str:
        """The invoke URL of the `$default` stage."""
        return self.stage.url
