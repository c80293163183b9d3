"""Names the ETL stack, its functions, its state machine and its readers share: each is written
here and nowhere else.

Standard library only: infra, the demo and the tests import this module as well as the
functions, and it ships in the functions' asset with the rest of `etl/`.
"""

from __future__ import annotations

from enum import StrEnum

# Handlers, as Lambda resolves them from the asset root.
TRANSFORM_HANDLER = "etl.transform.handler"
LOAD_HANDLER = "etl.load.handler"

# Environment variables the stack sets and the functions read.
ENV_DATA_BUCKET_NAME = "DATA_BUCKET_NAME"
ENV_GLUE_DATABASE_NAME = "GLUE_DATABASE_NAME"
ENV_TABLE_NAME = "TABLE_NAME"
#: Where the Iceberg table keeps its metadata and Parquet data files (`s3://bucket/warehouse`).
ENV_WAREHOUSE_LOCATION = "WAREHOUSE_LOCATION"

#: Powertools' `service` of each function: the dimension of its metrics.
TRANSFORM_SERVICE_NAME = "etl-transform"
LOAD_SERVICE_NAME = "etl-load"

# Where things live in the data bucket. Files dropped under LANDING_PREFIX start a run; a run
# leaves each file it read under ARCHIVE_PREFIX/<run id>/, its valid rows under
# STAGING_PREFIX/<run id>/ and every rejected row, with its reason, under
# QUARANTINE_PREFIX/<run id>/.
LANDING_PREFIX = "landing/"
STAGING_PREFIX = "staging/"
QUARANTINE_PREFIX = "quarantine/"
ARCHIVE_PREFIX = "archive/"
WAREHOUSE_PREFIX = "warehouse"

#: The Iceberg table's name in the Glue database (the stack creates the database; the first
#: load creates the table in it).
ORDERS_TABLE = "orders"
#: The natural key: one row per order in the table, whatever the number of deliveries.
NATURAL_KEY = "order_id"


class SourceFormat(StrEnum):
    """The two source systems, told apart by the file's suffix."""

    #: The warehouse system's daily export: CSV with a header row.
    CSV = "csv"
    #: The web shop's event feed: one JSON object per line.
    JSON_LINES = "jsonl"


class QuarantineReason(StrEnum):
    """Why a row is not in the table: the `reason_kind` of each quarantined row."""

    #: The bytes are not UTF-8 text.
    ENCODING = "encoding"
    #: The row cannot be read as its format's record (bad JSON, wrong number of CSV fields).
    MALFORMED = "malformed"
    #: The row is a record but a field is missing or not a valid value.
    INVALID = "invalid"
    #: The file's type is neither of the two sources'.
    UNSUPPORTED_FILE = "unsupported_file"
    #: Another row of the run has the same natural key and a later update.
    SUPERSEDED = "superseded"


# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_DATA_BUCKET_NAME = "DataBucketName"
OUTPUT_STATE_MACHINE_ARN = "StateMachineArn"
OUTPUT_GLUE_DATABASE_NAME = "GlueDatabaseName"
OUTPUT_TABLE_NAME = "TableName"
OUTPUT_TRANSFORM_FUNCTION_NAME = "TransformFunctionName"
OUTPUT_LOAD_FUNCTION_NAME = "LoadFunctionName"
OUTPUT_TRIGGER_DEAD_LETTER_QUEUE_URL = "TriggerDeadLetterQueueUrl"
