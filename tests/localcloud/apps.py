"""The handlers localcloud's tests deploy, and helpers that read what they did.

The tests build their stacks with `localcloud.testing.App` (shared with the benchmarks):

    app = App()
    queue = app.queue("Inbox", max_receive_count=2)
    table = app.table("Deliveries")
    worker = app.function("Worker", SQS_CONSUMER, environment={"TABLE_NAME": ref(table)})
    app.sqs_source(worker, queue, batch_size=10)

The handlers below are written into the asset; each reads what it should do from its
environment, so one module serves several functions.
"""

from __future__ import annotations

import textwrap
from typing import Any

SQS_CONSUMER = textwrap.dedent(
    '''
    """Counts each delivery of a message body in TABLE_NAME, then ends the batch as MODE says.

    MODE: "succeed"; "raise" when a body contains "poison"; "report" the poisoned records as
    batchItemFailures; "report-malformed": report MALFORMED_FAILURE (JSON) instead.
    """
    import json
    import os

    import boto3


    def handler(event, context):
        table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
        records = event["Records"]
        for record in records:
            table.update_item(
                Key={"id": record["body"]},
                UpdateExpression="ADD deliveries :one",
                ExpressionAttributeValues={":one": 1},
            )
        poisoned = [record["messageId"] for record in records if "poison" in record["body"]]
        mode = os.environ.get("MODE", "succeed")
        if poisoned and mode == "raise":
            raise ValueError(f"{len(poisoned)} poisoned records")
        if poisoned and mode == "report":
            return {"batchItemFailures": [{"itemIdentifier": id_} for id_ in poisoned]}
        if poisoned and mode == "report-malformed":
            return {"batchItemFailures": [json.loads(os.environ["MALFORMED_FAILURE"])]}
        return {"records": len(records)}
    '''
)

RECORDER = textwrap.dedent(
    '''
    """Prints and forwards each event to RESULTS_QUEUE_URL; fails or sleeps when asked.

    FAIL=always makes every invocation raise; an event {"fail": true} raises once, and
    {"sleep": seconds} sleeps (in short steps, so a timeout can stop it) before answering.
    """
    import json
    import os
    import time

    import boto3


    def handler(event, context):
        print(f"handling {json.dumps(event)}")
        asked = event if isinstance(event, dict) else {}
        if os.environ.get("FAIL") == "always" or asked.get("fail"):
            raise ValueError("asked to fail")
        deadline = time.monotonic() + float(asked.get("sleep", 0))
        while time.monotonic() < deadline:
            time.sleep(0.05)
        if os.environ.get("RESULTS_QUEUE_URL"):
            boto3.client("sqs").send_message(
                QueueUrl=os.environ["RESULTS_QUEUE_URL"], MessageBody=json.dumps(event)
            )
        return {"echo": event, "colour": os.environ.get("COLOUR")}
    '''
)

API = textwrap.dedent(
    '''
    """Answers an HTTP API route with what the event said; /boom raises."""
    import json
    import os


    def handler(event, context):
        if event["rawPath"] == "/boom":
            raise RuntimeError("boom")
        body = {
            "routeKey": event["routeKey"],
            "pathParameters": event.get("pathParameters"),
            "colour": os.environ.get("COLOUR"),
        }
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(body),
        }
    '''
)


# -- reading outcomes ----------------------------------------------------------------------


def drain(cloud: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message now visible in a queue (received, so later receives will not see them)."""
    sqs = cloud.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=600,
        ).get("Messages", [])
        if not batch:
            return found
        found.extend(batch)


def bodies(cloud: Any, queue_url: str) -> list[str]:
    return sorted(message["Body"] for message in drain(cloud, queue_url))


def deliveries(cloud: Any, table_name: str) -> dict[str, int]:
    """How many times SQS_CONSUMER was handed each message body."""
    items = cloud.client("dynamodb").scan(TableName=table_name)["Items"]
    return {item["id"]["S"]: int(item["deliveries"]["N"]) for item in items}
