"""DynamoDB requests on localcloud are atomic when they come from several threads at once, as
on DynamoDB: of concurrent conditional writes on one item, exactly one succeeds."""

from __future__ import annotations

import threading

from localcloud.testing import App

WRITERS = 8


def test_concurrent_conditional_transactions_on_one_item_let_exactly_one_through(launch):
    # GIVEN a table with a counter at 0
    app = App()
    app.table("Items")
    cloud = launch(app)
    table = cloud.outputs("Stack")["ItemsName"]
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"id": {"S": "counter"}, "n": {"N": "0"}})
    start = threading.Barrier(WRITERS)
    outcomes: list[str] = []

    def write(writer: int) -> None:
        start.wait()
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"id": {"S": "counter"}, "n": {"N": "1"}},
                            "ConditionExpression": "n = :zero",
                            "ExpressionAttributeValues": {":zero": {"N": "0"}},
                        }
                    },
                    {"Put": {"TableName": table, "Item": {"id": {"S": f"writer-{writer}"}}}},
                ]
            )
            outcomes.append("won")
        except dynamodb.exceptions.TransactionCanceledException:
            outcomes.append("cancelled")

    # WHEN eight writers move it from 0 to 1 at the same moment
    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN one did; the others' transactions wrote nothing at all
    assert sorted(outcomes) == ["cancelled"] * (WRITERS - 1) + ["won"]
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    assert len(items) == 2
