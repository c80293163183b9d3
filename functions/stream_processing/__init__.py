"""Stream processing pattern: keyed readings through Kinesis, aggregated per tumbling window."""
