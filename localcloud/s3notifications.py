"""S3 event notifications to SQS, SNS and Lambda."""

from __future__ import annotations

from localcloud.extension import Extension


class S3Notifications(Extension):
    """S3 event notifications to SQS, SNS and Lambda."""
