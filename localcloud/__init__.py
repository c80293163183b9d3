"""localcloud: runs a synthesized CDK app on moto with its functions' real code, no Docker.

This first part deploys the data plane a pattern needs (DynamoDB tables, SQS queues with redrive,
SNS topics and subscriptions) from the templates themselves onto an active moto mock, runs each
Lambda function in-process from its own asset, delivers SQS event sources with partial batch
responses, and turns HTTP requests into API Gateway v2 events for the routes of an HTTP API.
"""

from localcloud.inprocess import HttpResponse, LocalCloud
from localcloud.runner import Invocation

__all__ = ["HttpResponse", "Invocation", "LocalCloud"]
