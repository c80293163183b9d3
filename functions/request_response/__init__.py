"""Request-response pattern: an items API behind API Gateway (HTTP API), backed by DynamoDB."""
