"""What moto's CloudFormation cannot deploy and a pattern needs, done by localcloud instead.

moto skips `AWS::SNS::Subscription` and every `AWS::ApiGatewayV2::*` resource, and references to
a skipped resource then fail the deploy. localcloud gives moto a model for each: the resources
are created in moto's own SNS and API Gateway v2 backends, in dependency order, with their
properties already resolved, so `Ref` and `Fn::GetAtt` to them work and the stack's outputs
resolve. It also mends two gaps of moto's change sets, which the CDK CLI deploys through:
outputs are computed once a change set is executed, and deleting a change set that does not
exist answers as CloudFormation does instead of failing.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.awslambda import models as lambda_models
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.core.common_models import CloudFormationModel
from moto.kms import models as kms_models
from moto.sns.models import sns_backends
from moto.sqs import models as sqs_models

from localcloud.core.hooks import Hook

logger = logging.getLogger("localcloud")


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


class SnsSubscription(OwnedResource):
    resource_type = "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> SnsSubscription:
        props = cloudformation_json["Properties"]
        topic_arn = props["TopicArn"]
        backend = sns_backends[account_id][topic_arn.split(":")[3]]
        subscription = backend.subscribe(topic_arn, props["Endpoint"], props["Protocol"])
        attributes = {
            "FilterPolicy": props.get("FilterPolicy"),
            "FilterPolicyScope": props.get("FilterPolicyScope"),
            "RawMessageDelivery": props.get("RawMessageDelivery"),
            "RedrivePolicy": props.get("RedrivePolicy"),
            "DeliveryPolicy": props.get("DeliveryPolicy"),
        }
        # The scope goes first: it decides how the filter policy is read.
        for name in (
            "FilterPolicyScope",
            *(key for key in attributes if key != "FilterPolicyScope"),
        ):
            value = attributes[name]
            if value is None:
                continue
            if name == "RawMessageDelivery":
                # moto's delivery tests the value's truth, so it must be a real boolean.
                value = value is True or str(value).lower() == "true"
            elif isinstance(value, dict):
                value = json.dumps(value)
            backend.set_subscription_attributes(subscription.arn, name, value)
        return cls(subscription.arn, props, region_name, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sns_backends[account_id][self.physical_id.split(":")[3]]
        if self.physical_id in backend.subscriptions:
            backend.unsubscribe(self.physical_id)


class _HttpApiPart(OwnedResource):
    """A part of an HTTP API (integration, route, stage), created inside its API."""

    # The API's collection that holds this part; a part's attributes all name its id.
    collection: ClassVar[str] = ""

    @staticmethod
    def _backend(account_id: str, region_name: str) -> Any:
        return apigatewayv2_backends[account_id][region_name]

    @classmethod
    def _part(cls, physical_id: str, props: dict[str, Any], region: str, account: str) -> Any:
        part = cls(physical_id, props, region, account)
        part.api_id = props["ApiId"]
        return part

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.attributes:
            return self.physical_id
        return super().get_cfn_attribute(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        api = self._backend(account_id, region_name).apis.get(self.api_id)
        if api is not None:
            getattr(api, self.collection).pop(self.physical_id, None)


class HttpApi(_HttpApiPart):
    resource_type = "AWS::ApiGatewayV2::Api"
    attributes = ("ApiEndpoint", "ApiId")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> HttpApi:
        props = cloudformation_json["Properties"]
        if props.get("Body") or props.get("BodyS3Location"):
            raise ValidationError(resource_name, "an API imported from OpenAPI is not supported")
        api = cls._backend(account_id, region_name).create_api(
            api_key_selection_expression=props.get("ApiKeySelectionExpression"),
            cors_configuration=props.get("CorsConfiguration"),
            description=props.get("Description", ""),
            disable_schema_validation=props.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"),
            name=props.get("Name", resource_name),
            protocol_type=props.get("ProtocolType", "HTTP"),
            route_selection_expression=props.get("RouteSelectionExpression"),
            tags=props.get("Tags") or {},
            version=props.get("Version"),
        )
        return cls(api.api_id, props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "ApiId":
            return self.physical_id
        if attribute_name == "ApiEndpoint":
            return f"https://{self.physical_id}.execute-api.{self.region}.amazonaws.com"
        return super().get_cfn_attribute(attribute_name)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        # An update keeps the API and its id (and so its URL), as CloudFormation does.
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        backend = self._backend(account_id, region_name)
        if self.physical_id in backend.apis:
            backend.delete_api(self.physical_id)


class HttpApiIntegration(_HttpApiPart):
    resource_type = "AWS::ApiGatewayV2::Integration"
    attributes = ("IntegrationId",)
    collection = "integrations"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> HttpApiIntegration:
        props = cloudformation_json["Properties"]
        integration = cls._backend(account_id, region_name).create_integration(
            api_id=props["ApiId"],
            connection_id=props.get("ConnectionId"),
            connection_type=props.get("ConnectionType", "INTERNET"),
            content_handling_strategy=props.get("ContentHandlingStrategy"),
            credentials_arn=props.get("CredentialsArn"),
            description=props.get("Description", ""),
            integration_method=props.get("IntegrationMethod", "POST"),
            integration_subtype=props.get("IntegrationSubtype"),
            integration_type=props["IntegrationType"],
            integration_uri=props.get("IntegrationUri"),
            passthrough_behavior=props.get("PassthroughBehavior"),
            payload_format_version=str(props.get("PayloadFormatVersion", "2.0")),
            request_parameters=props.get("RequestParameters"),
            request_templates=props.get("RequestTemplates"),
            response_parameters=props.get("ResponseParameters"),
            template_selection_expression=props.get("TemplateSelectionExpression"),
            timeout_in_millis=props.get("TimeoutInMillis"),
            tls_config=props.get("TlsConfig"),
        )
        return cls._part(integration.id, props, region_name, account_id)


class HttpApiRoute(_HttpApiPart):
    resource_type = "AWS::ApiGatewayV2::Route"
    attributes = ("RouteId",)
    collection = "routes"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> HttpApiRoute:
        props = cloudformation_json["Properties"]
        route = cls._backend(account_id, region_name).create_route(
            api_id=props["ApiId"],
            api_key_required=props.get("ApiKeyRequired", False),
            authorization_scopes=props.get("AuthorizationScopes", []),
            authorization_type=props.get("AuthorizationType", "NONE"),
            authorizer_id=props.get("AuthorizerId"),
            model_selection_expression=props.get("ModelSelectionExpression"),
            operation_name=props.get("OperationName"),
            request_models=props.get("RequestModels"),
            request_parameters=props.get("RequestParameters"),
            route_key=props["RouteKey"],
            route_response_selection_expression=props.get("RouteResponseSelectionExpression"),
            target=props.get("Target"),
        )
        return cls._part(route.route_id, props, region_name, account_id)


class HttpApiStage(_HttpApiPart):
    resource_type = "AWS::ApiGatewayV2::Stage"
    collection = "stages"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> HttpApiStage:
        props = cloudformation_json["Properties"]
        config = {
            "stageName": props["StageName"],
            "autoDeploy": props.get("AutoDeploy", False),
            "defaultRouteSettings": props.get("DefaultRouteSettings"),
            "stageVariables": props.get("StageVariables", {}),
            "accessLogSettings": props.get("AccessLogSettings"),
            "description": props.get("Description"),
        }
        config = {key: value for key, value in config.items() if value is not None}
        cls._backend(account_id, region_name).create_stage(props["ApiId"], config)
        return cls._part(props["StageName"], props, region_name, account_id)


class FunctionEventInvokeConfig(OwnedResource):
    """A function's async settings: retries, maximum event age, success/failure destinations."""

    resource_type = "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> FunctionEventInvokeConfig:
        props = cloudformation_json["Properties"]
        config = {
            key: props[key]
            for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if key in props
        }
        backend = lambda_models.lambda_backends[account_id][region_name]
        function = backend.get_function(props["FunctionName"])
        # One configuration per function and qualifier: a new one replaces the old.
        function.event_invoke_config = []
        backend.put_function_event_invoke_config(props["FunctionName"], config)
        physical_id = f"{function.function_name}:{props.get('Qualifier', '$LATEST')}"
        return cls(physical_id, props, region_name, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = lambda_models.lambda_backends[account_id][region_name]
        try:
            function = backend.get_function(self.properties["FunctionName"])
        except Exception:
            return  # the function went first: its configuration went with it
        function.event_invoke_config = []


OWNED_MODELS: dict[str, type[CloudFormationModel]] = {
    model.cloudformation_type(): model
    for model in (
        SnsSubscription,
        HttpApi,
        HttpApiIntegration,
        HttpApiRoute,
        HttpApiStage,
        FunctionEventInvokeConfig,
    )
}


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


def _function_keeps_template_settings(original):
    # moto's function model takes only some of the template's properties; the engine also
    # needs the dead-letter target (async failures) and the log group (LoggingConfig).
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, *args, **kwargs):
        function = original(resource_name, cloudformation_json, *args, **kwargs)
        _keep_settings(function, cloudformation_json.get("Properties", {}))
        return function

    return classmethod(create_from_cloudformation_json)


def _updated_function_keeps_template_settings(original):
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, *args, **kwargs
    ):
        function = original(
            original_resource, new_resource_name, cloudformation_json, *args, **kwargs
        )
        _keep_settings(function, cloudformation_json.get("Properties", {}))
        return function

    return classmethod(update_from_cloudformation_json)


def _public_layers_accepted(original):
    # A layer published by another account (Powertools' public layer) is not in moto; on AWS
    # it is readable by all. Locally its content comes from the environment localcloud runs
    # in, so its ARN is kept as given, on updates as on creation.
    def _get_layers_data(self, layers_versions_arns):
        known = [arn for arn in layers_versions_arns if arn.split(":")[4] == self.account_id]
        data = {layer["Arn"]: layer for layer in original(self, known)} if known else {}
        return [data.get(arn, {"Arn": arn, "CodeSize": 0}) for arn in layers_versions_arns]

    return _get_layers_data


def _fifo_queue_named_as_fifo(original):
    # CloudFormation names a FIFO queue without a QueueName `<generated>.fifo`, as SQS requires;
    # moto's generated name lacks the suffix, and SQS then refuses the queue.
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, *args, **kwargs):
        properties = cloudformation_json.get("Properties") or {}
        fifo = str(properties.get("FifoQueue", "false")).lower() == "true"
        if fifo and "QueueName" not in properties:
            resource_name = f"{str(resource_name)[:75]}.fifo"
        return original(resource_name, cloudformation_json, *args, **kwargs)

    return classmethod(create_from_cloudformation_json)


def _keep_settings(function: Any, properties: dict[str, Any]) -> None:
    function.localcloud_dead_letter_arn = (properties.get("DeadLetterConfig") or {}).get(
        "TargetArn"
    )
    function.logging_config = properties.get("LoggingConfig") or {}


HOOKS: tuple[Hook, ...] = (
    Hook(
        sqs_models.Queue,
        "create_from_cloudformation_json",
        _fifo_queue_named_as_fifo,
        why="An unnamed FIFO queue's generated name ends in .fifo",
        parameters=(
            "cls",
            "resource_name",
            "cloudformation_json",
            "account_id",
            "region_name",
            "**kwargs",
        ),
    ),
    Hook(
        lambda_models.LambdaFunction,
        "update_from_cloudformation_json",
        _updated_function_keeps_template_settings,
        why="An updated function keeps its template settings",
        parameters=(
            "cls",
            "original_resource",
            "new_resource_name",
            "cloudformation_json",
            "account_id",
            "region_name",
        ),
    ),
    Hook(
        lambda_models.LambdaFunction,
        "_get_layers_data",
        _public_layers_accepted,
        why="AWS's public layers (Powertools) are accepted by ARN",
        parameters=("self", "layers_versions_arns"),
    ),
    Hook(
        lambda_models.LambdaFunction,
        "create_from_cloudformation_json",
        _function_keeps_template_settings,
        why="The engine needs template settings moto's model drops",
        parameters=(
            "cls",
            "resource_name",
            "cloudformation_json",
            "account_id",
            "region_name",
            "**kwargs",
        ),
    ),
    Hook(
        kms_models.Key,
        "create_from_cloudformation_json",
        _kms_key_takes_cloudformation_tags,
        why="CloudFormation's Key/Value tags for moto's KMS model",
        parameters=(
            "cls",
            "resource_name",
            "cloudformation_json",
            "account_id",
            "region_name",
            "**kwargs",
        ),
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
