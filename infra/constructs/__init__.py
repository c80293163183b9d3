"""Shared building blocks with secure defaults, and the joins between services built on them."""

from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.encrypted_topic import EncryptedTopic, topic_key
from infra.constructs.http_api_to_function import HttpApiToFunction, add_http_api_to_function
from infra.constructs.log_group import StageLogGroup
from infra.constructs.python_function import (
    LAMBDA_RUNTIME,
    POWERTOOLS_VERSION,
    PythonFunction,
    lambda_architecture,
    powertools_layer_parameter,
)
from infra.constructs.queue_to_function import QueueToFunction
from infra.constructs.queue_with_dlq import DeadLetterQueue, QueueWithDlq
from infra.constructs.stream_to_function import (
    StreamSourceOptions,
    StreamToFunction,
    TableStreamToFunction,
)
from infra.constructs.table import Table
from infra.constructs.topic_to_queues import QueueSubscription, TopicToQueues

__all__ = [
    "LAMBDA_RUNTIME",
    "POWERTOOLS_VERSION",
    "AlarmTopic",
    "DeadLetterQueue",
    "EncryptedTopic",
    "HttpApiToFunction",
    "PythonFunction",
    "QueueSubscription",
    "QueueToFunction",
    "QueueWithDlq",
    "StageLogGroup",
    "StreamSourceOptions",
    "StreamToFunction",
    "Table",
    "TableStreamToFunction",
    "TopicToQueues",
    "add_http_api_to_function",
    "lambda_architecture",
    "powertools_layer_parameter",
    "topic_key",
]
