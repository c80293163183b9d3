"""Event sourcing pattern: an account ledger kept as an append-only event store in DynamoDB."""
