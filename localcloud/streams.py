"""Kinesis and DynamoDB Streams event sources, delivered with Lambda's rules."""

from __future__ import annotations

from localcloud.extension import Extension


class StreamEventSources(Extension):
    """Kinesis and DynamoDB Streams event sources, delivered with Lambda's rules."""
