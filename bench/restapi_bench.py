"""Benchmark of localcloud's REST API front: requests per second with and without an authorizer.

Three GET methods of one REST API share a tiny Lambda proxy backend: `/open` has no
authorization, `/cached` a TOKEN authorizer whose decisions are cached (TTL 300 s), `/uncached`
the same authorizer with caching off (TTL 0), so each of its requests runs two functions. It
prints figures and asserts nothing about time; it checks only that every request got a 200.

    .venv/bin/python -m bench.restapi_bench [--requests N]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from localcloud import LocalCloud
from localcloud.core.assembly import write_assembly
from localcloud.testing import python_function, service_role

STACK = "RestApiBench"
ROUTES = {"open": None, "cached": 300, "uncached": 0}

BACKEND = """\
def handler(event, context):
    return {"statusCode": 200, "body": event["resource"]}
"""

AUTHORIZER = """\
def handler(event, context):
    if event["authorizationToken"] != "bench":
        raise Exception("Unauthorized")
    return {
        "principalId": "bench",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}],
        },
    }
"""


def _lambda_uri(function: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:aws:apigateway:",
                {"Ref": "AWS::Region"},
                ":lambda:path/2015-03-31/functions/",
                {"Fn::GetAtt": [function, "Arn"]},
                "/invocations",
            ],
        ]
    }


def write_rest_assembly(root: Path) -> None:
    """One stack, as `cdk synth` writes it: a REST API with the three routes above."""
    asset_hash = hashlib.sha256((BACKEND + AUTHORIZER).encode()).hexdigest()
    api = {"Ref": "Api"}
    resources: dict[str, Any] = {
        "FunctionRole": service_role("lambda.amazonaws.com"),
        "Backend": python_function("backend.handler", asset_hash, role="FunctionRole", timeout=10),
        "Authorizer": python_function(
            "authorizer.handler", asset_hash, role="FunctionRole", timeout=10
        ),
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "bench"}},
    }
    methods = []
    for route, ttl in ROUTES.items():
        resources[f"{route}Resource"] = {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "PathPart": route,
                "RestApiId": api,
            },
        }
        method: dict[str, Any] = {
            "AuthorizationType": "NONE",
            "HttpMethod": "GET",
            "Integration": {
                "IntegrationHttpMethod": "POST",
                "Type": "AWS_PROXY",
                "Uri": _lambda_uri("Backend"),
            },
            "ResourceId": {"Ref": f"{route}Resource"},
            "RestApiId": api,
        }
        if ttl is not None:
            resources[f"{route}Authorizer"] = {
                "Type": "AWS::ApiGateway::Authorizer",
                "Properties": {
                    "AuthorizerResultTtlInSeconds": ttl,
                    "AuthorizerUri": _lambda_uri("Authorizer"),
                    "IdentitySource": "method.request.header.Authorization",
                    "Name": f"{route}Authorizer",
                    "RestApiId": api,
                    "Type": "TOKEN",
                },
            }
            method["AuthorizationType"] = "CUSTOM"
            method["AuthorizerId"] = {"Ref": f"{route}Authorizer"}
        resources[f"{route}Method"] = {"Type": "AWS::ApiGateway::Method", "Properties": method}
        methods.append(f"{route}Method")
    resources["Deployment"] = {
        "Type": "AWS::ApiGateway::Deployment",
        "Properties": {"RestApiId": api},
        "DependsOn": methods,
    }
    resources["Stage"] = {
        "Type": "AWS::ApiGateway::Stage",
        "Properties": {
            "DeploymentId": {"Ref": "Deployment"},
            "RestApiId": api,
            "StageName": "prod",
        },
    }
    url = {
        "Fn::Join": [
            "",
            ["https://", api, ".execute-api.", {"Ref": "AWS::Region"}, ".amazonaws.com/prod/"],
        ]
    }
    template = {"Resources": resources, "Outputs": {"ApiUrl": {"Value": url}}}
    code = {asset_hash: {"backend.py": BACKEND, "authorizer.py": AUTHORIZER}}
    write_assembly(root, STACK, template, code)


def run(requests: int = 2000) -> dict[str, float]:
    """Requests per second through each route (keys: `open_rps`, `cached_rps`, `uncached_rps`)."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as folder:
        write_rest_assembly(Path(folder))
        with LocalCloud(folder) as cloud:
            cloud.deploy(STACK)
            url = cloud.outputs(STACK)["ApiUrl"]
            headers = {"Authorization": "bench"}
            for route in ROUTES:
                # One request first, so cold starts are not in the figure.
                _require_ok(cloud.http("GET", url + route, headers=headers), route)
                started = time.perf_counter()
                for _ in range(requests):
                    response = cloud.http("GET", url + route, headers=headers)
                elapsed = time.perf_counter() - started
                _require_ok(response, route)
                figures[f"{route}_rps"] = requests / elapsed
                figures[f"{route}_ms_per_request"] = elapsed / requests * 1000
            failed = [i for i in cloud.invocations if not i.succeeded]
            if failed:
                raise RuntimeError(f"{len(failed)} invocations failed: {failed[0].error}")
            figures["invocations"] = float(len(cloud.invocations))
    return figures


def _require_ok(response: Any, route: str) -> None:
    if response.status != 200:
        raise RuntimeError(f"/{route} answered {response.status}: {response.body}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per route")
    args = parser.parse_args(argv)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    figures = run(args.requests)
    print(
        f"REST API front, {args.requests} GET requests per route (Python {sys.version.split()[0]})"
    )
    for route, ttl in ROUTES.items():
        label = {
            None: "no authorizer",
            300: "TOKEN authorizer, cached",
            0: "TOKEN authorizer, TTL 0",
        }
        print(
            f"  /{route:<9} {label[ttl]:<27} {figures[f'{route}_rps']:8,.0f} req/s"
            f"  ({figures[f'{route}_ms_per_request']:.3f} ms each)"
        )
    print(f"  invocations: {figures['invocations']:.0f}")


if __name__ == "__main__":
    main()
