"""BatchWriteItem on localcloud leaves requests unprocessed when asked, as throttling does."""

from __future__ import annotations

from localcloud.testing import App


def _puts(*ids: str) -> list[dict]:
    return [{"PutRequest": {"Item": {"id": {"S": item_id}}}} for item_id in ids]


def test_a_throttled_batch_write_returns_its_last_requests_unprocessed_once(launch):
    app = App()
    app.table("Items")
    cloud = launch(app)
    table = cloud.outputs("Stack")["ItemsName"]
    dynamodb = cloud.client("dynamodb")

    # WHEN the next call is throttled for two requests
    cloud.engine.service("dynamodb").throttle_batch_writes(table, unprocessed=2)
    first = dynamodb.batch_write_item(RequestItems={table: _puts("a", "b", "c", "d", "e")})
    second = dynamodb.batch_write_item(RequestItems={table: first["UnprocessedItems"][table]})

    # THEN the first call wrote three and handed back the last two, which the retry wrote
    assert first["UnprocessedItems"] == {table: _puts("d", "e")}
    assert second["UnprocessedItems"] == {}
    items = dynamodb.scan(TableName=table)["Items"]
    assert sorted(item["id"]["S"] for item in items) == ["a", "b", "c", "d", "e"]
