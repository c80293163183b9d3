"""Typed failures of the stream-processing pattern: what the producer rejects, what the
aggregator cannot read, and what it must retry."""

from __future__ import annotations


class StreamProcessingError(Exception):
    """Base of every failure this pattern raises on purpose."""


class InvalidPutRequestError(StreamProcessingError):
    """The producer's input is not a list of valid readings; nothing was put."""


class PutRecordsRefusedError(StreamProcessingError):
    """Kinesis refused a whole PutRecords call, after botocore's retries; `code` says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class MalformedRecordError(StreamProcessingError):
    """A stream record that is not a reading: it would fail on every retry, so it is
    reported to the on-failure queue with this reason and the shard moves on."""


class ConcurrentWriteError(StreamProcessingError):
    """Another writer changed a window's aggregate between our read and our write: retry."""


class InvalidSettingError(StreamProcessingError):
    """A setting the stack defines holds a value this code cannot use."""
