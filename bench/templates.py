"""Template resources the benchmarks share, written as `cdk synth` writes them."""

from __future__ import annotations

from typing import Any

from localcloud.core.assembly import BOOTSTRAP_BUCKET


def service_role(service: str) -> dict[str, Any]:
    """An IAM role that `service` (e.g. "lambda.amazonaws.com") may assume."""
    statement = {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": service}}
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [statement], "Version": "2012-10-17"}
        },
    }


def python_function(
    handler: str, asset_hash: str, *, role: str, timeout: int = 30, memory: int = 128
) -> dict[str, Any]:
    """A Python 3.13 function whose code is the asset `asset_hash`, run by the role `role`."""
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {"S3Bucket": {"Fn::Sub": BOOTSTRAP_BUCKET}, "S3Key": f"{asset_hash}.zip"},
            "Handler": handler,
            "MemorySize": memory,
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Runtime": "python3.13",
            "Timeout": timeout,
        },
        "DependsOn": [role],
    }
