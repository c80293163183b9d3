"""Shared building blocks with secure defaults; every pattern builds on these."""

from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.python_function import (
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    POWERTOOLS_VERSION,
    PythonFunction,
    powertools_layer_parameter,
)
from infra.constructs.queue_with_dlq import QueueWithDlq
from infra.constructs.table import Table

__all__ = [
    "LAMBDA_ARCHITECTURE",
    "LAMBDA_RUNTIME",
    "POWERTOOLS_VERSION",
    "AlarmTopic",
    "PythonFunction",
    "QueueWithDlq",
    "Table",
    "powertools_layer_parameter",
]
