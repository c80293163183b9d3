"""What moto's CloudFormation cannot deploy, done by localcloud: the base of every owned model.

moto skips resource types it does not implement (SNS subscriptions, HTTP and REST APIs, Cloud
Map, Glue...) and references to a skipped resource then fail the deploy. A service gives moto
a model for each (`OwnedResource` subclasses in its `MODELS`, registered in `OWNED_MODELS`
while an engine runs): the resources are created in moto's own backends, in dependency order,
with their properties already resolved, so `Ref` and `Fn::GetAtt` to them work and the stack's
outputs resolve. This module also mends gaps of moto's change sets, which the CDK CLI deploys
through: outputs are computed once a change set is executed, and deleting or describing a
change set that does not exist answers as CloudFormation does; AWS's public SSM parameters
resolve, and KMS keys take CloudFormation's tags.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.core.common_models import CloudFormationModel
from moto.kms import models as kms_models

from localcloud.core.hooks import Hook

logger = logging.getLogger("localcloud")

#: The parameters of moto's `create_from_cloudformation_json` and
#: `update_from_cloudformation_json`, which several services' hooks wrap.
CREATE_FROM_TEMPLATE = (
    "cls",
    "resource_name",
    "cloudformation_json",
    "account_id",
    "region_name",
    "**kwargs",
)
UPDATE_FROM_TEMPLATE = (
    "cls",
    "original_resource",
    "new_resource_name",
    "cloudformation_json",
    "account_id",
    "region_name",
)


class OwnedResource(CloudFormationModel):
    """A resource localcloud creates for moto's CloudFormation (see the module docstring)."""

    # moto lists every CloudFormationModel subclass, this base included, by this type.
    resource_type: ClassVar[str] = "Localcloud::Owned::Resource"
    attributes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, physical_id: str, properties: dict[str, Any], region: str, account: str):
        self.physical_id = physical_id
        self.properties = properties
        self.region = region
        self.account = account

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:  # type: ignore[override]
        return cls.resource_type

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.attributes

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        """Apply changed properties to the resource itself, as CloudFormation does for those
        it updates without replacement; False when the change needs a new resource."""
        return False

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        if original_resource.update_in_place(properties):
            original_resource.properties = properties
            return original_resource
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region: str
    ) -> None:
        return None

    def delete(self, account_id: str, region_name: str) -> None:
        return None


#: CloudFormation models localcloud owns, by resource type: each service's `MODELS`, registered
#: while an engine runs.
OWNED_MODELS: dict[str, type[CloudFormationModel]] = {}


def applied_after_create(apply: Callable[[Any, dict[str, Any]], None]) -> Callable[[Any], Any]:
    """A hook's wrap for a moto model's `create_from_cloudformation_json`: moto creates the
    resource, then `apply(resource, properties)` adds what moto's model leaves out."""

    def wrap(original):
        def create_from_cloudformation_json(
            cls, resource_name, cloudformation_json, *args, **kwargs
        ):
            resource = original(resource_name, cloudformation_json, *args, **kwargs)
            apply(resource, cloudformation_json.get("Properties") or {})
            return resource

        return classmethod(create_from_cloudformation_json)

    return wrap


def applied_after_update(apply: Callable[[Any, dict[str, Any]], None]) -> Callable[[Any], Any]:
    """The same as `applied_after_create`, for `update_from_cloudformation_json`."""

    def wrap(original):
        def update_from_cloudformation_json(
            cls, original_resource, new_resource_name, cloudformation_json, *args, **kwargs
        ):
            resource = original(
                original_resource, new_resource_name, cloudformation_json, *args, **kwargs
            )
            apply(resource, cloudformation_json.get("Properties") or {})
            return resource

        return classmethod(update_from_cloudformation_json)

    return wrap


def _execute_change_set_with_outputs(original):
    def execute_change_set(self, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        original(self, change_set_name, stack_name)
        # moto builds a stack's outputs from the template it was created with, which for a
        # change set is empty: build them from the executed template.
        stack = self.stacks[change_set.stack_id]
        # As in CloudFormation, executing a change set removes the stack's change sets. moto
        # finds change sets by name alone, so a kept `cdk-deploy-change-set` of one stack
        # would answer for the next stack the CDK CLI deploys.
        for change_set_id in [
            key for key, kept in self.change_sets.items() if kept.stack_id == stack.stack_id
        ]:
            del self.change_sets[change_set_id]
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        for export in stack.exports:
            self.exports[export.name] = export

    return execute_change_set


def _delete_change_set_or_fail_cleanly(original):
    # moto fails with an UnboundLocalError (a 500) on a change set it does not hold; the CDK
    # CLI deletes its previous change set before each deploy, so that is treated as done.
    def delete_change_set(self, change_set_name: str) -> None:
        known = change_set_name in self.change_sets or any(
            change_set.change_set_name == change_set_name
            for change_set in self.change_sets.values()
        )
        if known:
            original(self, change_set_name)

    return delete_change_set


#: CloudFormation's reason for a change set that would change nothing; the CDK CLI reads it as
#: "no changes", deletes the change set and reports the stack as it was.
NO_CHANGES_REASON = (
    "The submitted information didn't contain changes. Submit different information to create "
    "a change set."
)


def _resolved_parameters(stack: Any, template: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The values `parameters` take in `template` for `stack`: defaults filled in, SSM
    parameters read, as CloudFormation compares them."""
    resolution = cfn_parsing.ResourceMap(
        stack.stack_id,
        stack.name,
        parameters,
        stack.tags,
        region_name=stack.region_name,
        account_id=stack.account_id,
        template=stack.parse_template(template),
        cross_stack_resources=None,
    )
    resolution.load_parameters()
    return resolution.resolved_parameters


def _change_set_without_changes_fails(original):
    # moto marks a change set empty only when the parameters sent equal those the stack was
    # created with; the CDK CLI sends every parameter as UsePreviousValue (which moto turns into
    # the resolved value), so an unchanged stack was updated on every deploy. CloudFormation
    # compares the resolved values.
    def create_change_set(
        self,
        stack_name,
        change_set_name,
        template,
        parameters,
        description,
        change_set_type,
        notification_arns=None,
        tags=None,
        role_arn=None,
    ):
        change_set_id, stack_id = original(
            self,
            stack_name,
            change_set_name,
            template,
            parameters,
            description,
            change_set_type,
            notification_arns,
            tags,
            role_arn,
        )
        change_set = self.change_sets[change_set_id]
        stack = self.stacks[stack_id]
        if (
            change_set_type == "UPDATE"
            and change_set.status != "FAILED"
            and stack.has_template(template)
            and _resolved_parameters(stack, template, parameters) == stack.stack_parameters
        ):
            change_set.status = "FAILED"
            change_set.execution_status = "UNAVAILABLE"
            change_set.status_reason = NO_CHANGES_REASON
        return change_set_id, stack_id

    return create_change_set


class ChangeSetNotFoundError(CloudFormationError):
    code = "ChangeSetNotFound"

    def __init__(self, change_set_name: str) -> None:
        super().__init__(f"ChangeSet [{change_set_name}] does not exist")


def _describe_change_set_not_found(original):
    # CloudFormation answers ChangeSetNotFound, which the CDK CLI checks for before it
    # redeploys a stack; moto answers a ValidationError that the CLI takes as fatal.
    def describe_change_set(self, change_set_name: str):
        try:
            return original(self, change_set_name)
        except ValidationError:
            raise ChangeSetNotFoundError(change_set_name) from None

    return describe_change_set


def _resource_class_with_owned_models(original):
    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type in OWNED_MODELS:
            return OWNED_MODELS[resource_type]
        return original(resource_type)

    return resource_class_from_type


def public_parameter(path: str, region: str) -> str | None:
    """A stand-in for one of AWS's public SSM parameters that moto does not hold.

    Powertools publishes its layer ARN per release under `/aws/service/powertools/...`; locally
    the layer's content comes from the environment localcloud runs in, so any valid ARN of
    that layer will do.
    """
    parts = path.strip("/").split("/")
    if parts[:3] == ["aws", "service", "powertools"] and len(parts) == 7:
        _, _, _, language, architecture, runtime, _version = parts
        python = runtime.replace(".", "")
        name = f"AWSLambdaPowertools{language.capitalize()}V3-{python}-{architecture}"
        return f"arn:aws:lambda:{region}:017000801446:layer:{name}:1"
    return None


def _ssm_parameter_or_public_stand_in(original):
    def parse_ssm_parameter(self, value: str, value_type: str) -> str:
        from moto.ssm.models import ssm_backends

        if ssm_backends[self._account_id][self._region_name].get_parameter(value) is None:
            stand_in = public_parameter(value, self._region_name)
            if stand_in is not None:
                return stand_in
            if not value.startswith("/"):
                # moto re-resolves a parameter kept from the previous deploy (UsePreviousValue)
                # from its already resolved value: that value is the answer.
                return value
            raise ValidationError(value, f"Parameter {value} not found in SSM")
        return original(self, value, value_type)

    return parse_ssm_parameter


def _kms_key_takes_cloudformation_tags(original):
    # CloudFormation gives a key's tags as Key/Value; moto's KMS model expects TagKey/TagValue.
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, *args, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        properties["Tags"] = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]} if "Key" in tag else tag
            for tag in properties.get("Tags", [])
        ]
        return original(resource_name, cloudformation_json, *args, **kwargs)

    return classmethod(create_from_cloudformation_json)


HOOKS: tuple[Hook, ...] = (
    Hook(
        kms_models.Key,
        "create_from_cloudformation_json",
        _kms_key_takes_cloudformation_tags,
        why="CloudFormation's Key/Value tags for moto's KMS model",
        parameters=CREATE_FROM_TEMPLATE,
    ),
    Hook(
        cfn_parsing.ResourceMap,
        "parse_ssm_parameter",
        _ssm_parameter_or_public_stand_in,
        why="AWS's public SSM parameters resolve locally",
        parameters=("self", "value", "value_type"),
    ),
    Hook(
        cfn_parsing,
        "resource_class_from_type",
        _resource_class_with_owned_models,
        why="Localcloud models the resource types moto skips",
        parameters=("resource_type",),
    ),
    Hook(
        cfn_models.CloudFormationBackend,
        "execute_change_set",
        _execute_change_set_with_outputs,
        why="Stack outputs come from the executed template",
        parameters=("self", "change_set_name", "stack_name"),
    ),
    Hook(
        cfn_models.CloudFormationBackend,
        "create_change_set",
        _change_set_without_changes_fails,
        why="An unchanged template and parameters make a change set without changes",
        parameters=(
            "self",
            "stack_name",
            "change_set_name",
            "template",
            "parameters",
            "description",
            "change_set_type",
            "notification_arns",
            "tags",
            "role_arn",
        ),
    ),
    Hook(
        cfn_models.CloudFormationBackend,
        "delete_change_set",
        _delete_change_set_or_fail_cleanly,
        why="The CDK CLI deletes change sets that moto already removed",
        parameters=("self", "change_set_name"),
    ),
    Hook(
        cfn_models.CloudFormationBackend,
        "describe_change_set",
        _describe_change_set_not_found,
        why="The CDK CLI needs ChangeSetNotFound, not a ValidationError",
        parameters=("self", "change_set_name"),
    ),
)
