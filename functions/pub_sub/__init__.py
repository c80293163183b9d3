"""Pub-sub pattern: a publisher fans order events out through SNS to filtered SQS consumers."""
