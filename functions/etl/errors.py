"""Typed failures of the ETL pattern. Their class names are the `errorType` Step Functions sees,
so the state machine's Retry and Catch name them (`contract`-free: the names are the classes')."""

from __future__ import annotations

from etl.contract import QuarantineReason


class EtlError(Exception):
    """Base of the pattern's failures."""


class RowRejectedError(EtlError):
    """One row cannot be loaded; it goes to quarantine with `kind` and `reason`."""

    def __init__(self, kind: QuarantineReason, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class InvalidRunInputError(EtlError):
    """A step was invoked with input that is not what the state machine sends: not retried."""


class SourceUnavailableError(EtlError):
    """Reading or writing the data bucket failed (throttling, a 5xx, a timeout): transient,
    so the state machine retries the step."""


class CommitConflictError(EtlError):
    """Another run committed to the table first (Iceberg's optimistic concurrency): the load
    is retried on the new table version."""


class AccountingError(EtlError):
    """The run's rows do not add up (rows in != rows loaded + rows quarantined): the run fails
    rather than report a load that lost rows."""
