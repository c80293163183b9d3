"""ETL pattern: two sources landed in S3, normalized into one schema, merged into Iceberg."""
