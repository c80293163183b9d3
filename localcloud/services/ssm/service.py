"""SSM parameters from templates that leave their name to CloudFormation.

CloudFormation names an `AWS::SSM::Parameter` without `Name` itself (CDK never sets one unless
asked: generated names are the rule), and `Ref` gives that name. moto's CloudFormation passes
the missing `Name` on as None and fails the whole deploy; here the parameter takes the
physical name moto generated for the resource, as CloudFormation's generated name.

The resource's `Tags` are a map of key to value (unlike most resource types' list of
`{Key, Value}`), and CDK tags every parameter; moto reads them as a list and fails, so they
reach it as the list its PutParameter takes.
"""

from __future__ import annotations

from typing import Any

from moto.ssm import models as ssm_models

from localcloud.core.cloudformation import CREATE_FROM_TEMPLATE
from localcloud.core.hooks import Hook
from localcloud.core.service import Service


def _unnamed_parameter_takes_its_generated_name(original):
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, *args: Any, **kwargs: Any
    ):
        properties = dict(cloudformation_json.get("Properties") or {})
        if not properties.get("Name"):
            properties["Name"] = str(resource_name)
        if isinstance(properties.get("Tags"), dict):
            properties["Tags"] = [
                {"Key": key, "Value": value} for key, value in properties["Tags"].items()
            ]
        cloudformation_json = {**cloudformation_json, "Properties": properties}
        return original(resource_name, cloudformation_json, *args, **kwargs)

    return classmethod(create_from_cloudformation_json)


class Parameters(Service):
    """SSM parameters: one in a template gets a generated name when it has none, and its tags."""

    NAME = "ssm"

    HOOKS = (
        Hook(
            ssm_models.Parameter,
            "create_from_cloudformation_json",
            _unnamed_parameter_takes_its_generated_name,
            why="A parameter without Name gets a generated name; its map of tags is read",
            parameters=CREATE_FROM_TEMPLATE,
        ),
    )
