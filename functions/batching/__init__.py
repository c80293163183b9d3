"""Batching pattern: items enqueued per tenant, written to DynamoDB in bulk from SQS batches."""
