"""Orchestration pattern: one order-fulfilment saga, run by Step Functions and by a Lambda
durable function, over the same participants (stock, payment, shipping, notification)."""
