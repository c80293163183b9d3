"""Helpers for tests of a `LocalCloudServer`: a client of its endpoint, and a deploy through it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

from localcloud.core.assembly import file_assets, load_assembly
from localcloud.core.engine import DEFAULT_ACCOUNT_ID
from localcloud.inprocess import BOOTSTRAP_VERSION, BOOTSTRAP_VERSION_PARAMETER
from localcloud.server import LocalCloudServer

REGION = "eu-west-1"


def client(server: LocalCloudServer, service: str):
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",  # the endpoint accepts any value
        config=Config(account_id_endpoint_mode="disabled"),
    )


def deploy_over_endpoint(server: LocalCloudServer, assembly: Path, stack_name: str) -> None:
    """What `cdk deploy` does against the endpoint: bootstrap marker, assets, a change set."""
    stack = load_assembly(assembly)[stack_name]
    client(server, "ssm").put_parameter(
        Name=BOOTSTRAP_VERSION_PARAMETER,
        Value=BOOTSTRAP_VERSION,
        Type="String",
        Overwrite=True,
    )
    s3 = client(server, "s3")
    for asset in file_assets(stack, account_id=DEFAULT_ACCOUNT_ID, region=REGION):
        if asset.bucket not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(
                Bucket=asset.bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        s3.put_object(Bucket=asset.bucket, Key=asset.key, Body=asset.content())
    cloudformation = client(server, "cloudformation")
    change_set = f"deploy-{uuid.uuid4().hex[:8]}"
    cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=change_set,
        TemplateBody=json.dumps(stack.template),
        ChangeSetType="CREATE",
        Capabilities=["CAPABILITY_IAM"],
    )
    cloudformation.execute_change_set(StackName=stack_name, ChangeSetName=change_set)
