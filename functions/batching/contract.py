"""Names the batching stack and its functions share: each is written here and nowhere else.

Standard library only: infra, the demo and the tests import this module as well as the
functions, and it ships in the functions' asset with the rest of `batching/`.
"""

from __future__ import annotations

from enum import StrEnum

# Handlers, as Lambda resolves them from the asset root.
PRODUCER_HANDLER = "batching.producer.handler"
WRITER_HANDLER = "batching.writer.handler"

# Environment variables the stack sets and the functions read.
ENV_QUEUE_URL = "QUEUE_URL"
ENV_DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
ENV_ITEMS_TABLE_NAME = "ITEMS_TABLE_NAME"
# How the functions retry what SQS or DynamoDB left undone (UnprocessedItems, failed entries):
# attempts in all, and the first backoff's ceiling in milliseconds (doubling each retry).
ENV_WRITE_MAX_ATTEMPTS = "WRITE_MAX_ATTEMPTS"
ENV_WRITE_BASE_DELAY_MS = "WRITE_BASE_DELAY_MS"
#: The source queue's `maxReceiveCount`: on that receive the writer dead-letters a failed
#: item itself, with its reason, instead of letting SQS move it without one.
ENV_MAX_RECEIVE_COUNT = "MAX_RECEIVE_COUNT"

#: Powertools' `service` of each function: the dimension of its metrics.
PRODUCER_SERVICE_NAME = "batching-producer"
WRITER_SERVICE_NAME = "batching-writer"
#: The writer's count of items it dead-lettered with a reason (the DLQ's depth alarm fires).
ITEMS_DEAD_LETTERED_METRIC = "ItemsDeadLettered"
#: The producer's count of items SQS did not accept; the stack alarms on it.
ITEMS_NOT_ENQUEUED_METRIC = "ItemsNotEnqueued"


class FailureKind(StrEnum):
    """Why an item did not reach the table: the `failure_kind` of a dead-lettered message."""

    #: The body is not a valid item: it fails on every delivery.
    VALIDATION = "validation"
    #: DynamoDB did not take the item (UnprocessedItems after every retry, or an error).
    PERSISTENCE = "persistence"


# Message attributes the writer puts on a message it dead-letters.
FAILURE_KIND_ATTRIBUTE = "failure_kind"
FAILURE_REASON_ATTRIBUTE = "failure_reason"
#: The message id the item had in the source queue (the DLQ gives it a new one).
SOURCE_MESSAGE_ID_ATTRIBUTE = "source_message_id"

# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_PRODUCER_FUNCTION_NAME = "ProducerFunctionName"
OUTPUT_WRITER_FUNCTION_NAME = "WriterFunctionName"
OUTPUT_QUEUE_URL = "QueueUrl"
OUTPUT_DEAD_LETTER_QUEUE_URL = "DeadLetterQueueUrl"
OUTPUT_ITEMS_TABLE_NAME = "ItemsTableName"


def item_key(tenant_id: str, item_id: str) -> dict[str, str]:
    """The items table's key of one item: one item per tenant and item id, whatever the
    number of deliveries (`pk` `TENANT#acme`, `sk` `ITEM#<item_id>`)."""
    return {"pk": f"TENANT#{tenant_id}", "sk": f"ITEM#{item_id}"}
