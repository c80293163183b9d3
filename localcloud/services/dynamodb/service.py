"""DynamoDB requests that are atomic under concurrency; TransactWriteItems that keeps only the
items it touches for its rollback, not tables; and BatchWriteItem throttling on demand.

DynamoDB applies each request atomically: of two conditional writes on one item, one sees
the other's result. moto's backend holds no lock, so requests from several threads (functions
racing under `localcloud up`, a test's concurrent writers) interleave inside it: two
TransactWriteItems can both pass a condition that only one should, and a Query iterating a
partition while another request adds to it fails with "dictionary changed size during
iteration". Here every DynamoDB request runs alone.

moto backs up every table a transaction writes to with `copy.deepcopy(table)` before each
TransactWriteItems, so one transaction costs time and memory in proportion to the table's
size: a subscriber writing its ledger in a transaction per message slows down as the ledger
grows. Here the transaction keeps a copy of each item it names (and the length of the
table's stream) and restores those when moto rolls it back; while it runs, moto's whole-table
copy on this thread hands back the table itself.

moto writes every request of a BatchWriteItem; DynamoDB leaves some unprocessed when it
throttles (a hot partition, capacity exceeded), and a writer must retry them. A test or a
scenario asks for that with `throttle_batch_writes(table, unprocessed=2, calls=1)`: the next
`calls` BatchWriteItem calls on the table write all but their last `unprocessed` requests and
return those in `UnprocessedItems`, as DynamoDB does.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from localcloud.core.engine import active_engine_or_none
from localcloud.core.hooks import Hook
from localcloud.core.service import Service
from localcloud.services.dynamodb import expressions

_state = threading.local()
#: Held for the whole of each DynamoDB request (see the module docstring). Reentrant: a
#: request never waits for itself.
_REQUESTS = threading.RLock()


def _one_request_at_a_time(original):
    def call_action(self):
        with _REQUESTS:
            return original(self)

    return call_action


class _CopyKeepingTables:
    """Stands in for the `copy` module in moto's DynamoDB backend (see the module docstring)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table) and getattr(_state, "in_transaction", False):
            return value
        return self._real.deepcopy(value, memo)


def _touched_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple]:
    """(table, hash key, range key, a copy of the item or None, stream length) per operation."""
    saved = []
    for entry in transact_items:
        if len(entry) != 1:
            continue  # moto refuses it before writing anything
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        key = op.get("Item") if op_type == "Put" else op.get("Key")
        try:
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.has_range_key else None
            item = table.get_item(hash_key, range_key)
        except Exception:  # noqa: S112 - a malformed key: moto refuses it and writes nothing
            continue
        stream = table.stream_shard
        saved.append(
            (
                table,
                hash_key,
                range_key,
                copy.deepcopy(item),
                len(stream.items) if stream is not None else None,
            )
        )
    return saved


def _restore(saved: list[tuple]) -> None:
    for table, hash_key, range_key, item, stream_length in reversed(saved):
        if range_key is not None:
            if item is None:
                table.items.get(hash_key, {}).pop(range_key, None)
                if hash_key in table.items and not table.items[hash_key]:
                    del table.items[hash_key]
            else:
                table.items[hash_key][range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        if stream_length is not None and table.stream_shard is not None:
            del table.stream_shard.items[stream_length:]


def _transact_write_items_keeps_touched_items(original):
    def transact_write_items(self, transact_items):
        saved = _touched_items(self, transact_items)
        _state.in_transaction = True
        try:
            return original(self, transact_items)
        except Exception:
            _restore(saved)
            raise
        finally:
            _state.in_transaction = False

    return transact_write_items


def _batch_write_throttled_on_demand(original):
    def batch_write_item(self):
        engine = active_engine_or_none()
        tables = engine.service("dynamodb") if engine is not None else None
        held: dict[str, list[Any]] = {}
        if tables is not None:
            for table_name, requests in self.body["RequestItems"].items():
                count = tables.take_throttled(table_name, len(requests))
                if count:
                    self.body["RequestItems"][table_name] = requests[:-count]
                    held[table_name] = requests[-count:]
            self.body["RequestItems"] = {
                name: requests for name, requests in self.body["RequestItems"].items() if requests
            }
        if not held:
            return original(self)
        result = original(self) if self.body["RequestItems"] else None
        response = dict(result.result) if result is not None else {"ConsumedCapacity": []}
        response["UnprocessedItems"] = held
        return ActionResult(response)

    return batch_write_item


class TransactionalTables(Service):
    """DynamoDB transactions that back up only the items they touch, and BatchWriteItem
    throttling on demand (see the module docstring)."""

    NAME = "dynamodb"

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._throttles: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def throttle_batch_writes(self, table_name: str, *, unprocessed: int, calls: int = 1) -> None:
        """The next `calls` BatchWriteItem calls on `table_name` leave their last
        `unprocessed` requests unprocessed (in `UnprocessedItems`), as a throttled table does."""
        with self._lock:
            self._throttles[table_name] = [unprocessed] * calls

    def take_throttled(self, table_name: str, requests: int) -> int:
        """How many of a call's `requests` on `table_name` to leave unprocessed (0: none)."""
        with self._lock:
            pending = self._throttles.get(table_name)
            if not pending:
                return 0
            return min(pending.pop(0), requests)

    HOOKS = (
        Hook(
            dynamodb_responses.DynamoHandler,
            "call_action",
            _one_request_at_a_time,
            why="Each DynamoDB request is atomic: concurrent requests do not interleave in moto",
            parameters=("self",),
        ),
        Hook(
            dynamodb_models,
            "copy",
            _CopyKeepingTables,
            why="moto's whole-table copy before a transaction is left out",
            parameters=None,
        ),
        Hook(
            dynamodb_models.DynamoDBBackend,
            "transact_write_items",
            _transact_write_items_keeps_touched_items,
            why="A transaction backs up and restores only the items it touches",
            parameters=("self", "transact_items"),
        ),
        Hook(
            dynamodb_responses.DynamoHandler,
            "batch_write_item",
            _batch_write_throttled_on_demand,
            why="BatchWriteItem leaves requests unprocessed when a test throttles it",
            parameters=("self",),
        ),
        *expressions.HOOKS,
    )
