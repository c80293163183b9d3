"""Small apps built with the real CDK constructs, synthesized in the test process.

They check localcloud against the shapes CDK itself writes (the other localcloud tests use
hand-written templates shaped like CDK's). aws_cdk is imported inside each builder: loading it
starts Node, which only the tests that synthesize need, once per test process.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

REST_STACK = "RestCdk"
REST_API_KEY = "cdk-rest-api-key-0123456789"
JSONATA_STACK = "SfnJsonataCdk"

_BACKEND = textwrap.dedent(
    """
    import json
    def handler(event, context):
        return {"statusCode": 200, "body": json.dumps({
            "resource": event["resource"],
            "pathParameters": event["pathParameters"],
            "principal": (event["requestContext"].get("authorizer") or {}).get("principalId"),
        })}
    """
)
_AUTHORIZER = textwrap.dedent(
    """
    def handler(event, context):
        if event["authorizationToken"] != "letmein":
            raise Exception("Unauthorized")
        return {"principalId": "cdk-user", "policyDocument": {"Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                           "Resource": event["methodArn"]}]}}
    """
)
_DOUBLER = textwrap.dedent(
    """
    def handler(event, context):
        return {"n": event["n"] * 2}
    """
)


def synth_rest_api(outdir: Path) -> Path:
    """A `RestApi` with a Lambda proxy, a token authorizer, an API key in a usage plan, a MOCK
    and an SQS integration, a gateway response and a CORS preflight on several origins."""
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigw
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, REST_STACK)
    runtime = lambda_.Runtime.PYTHON_3_13
    backend = lambda_.Function(
        stack,
        "Backend",
        runtime=runtime,
        handler="index.handler",
        code=lambda_.Code.from_inline(_BACKEND),
    )
    authorizer = lambda_.Function(
        stack,
        "Auth",
        runtime=runtime,
        handler="index.handler",
        code=lambda_.Code.from_inline(_AUTHORIZER),
    )
    api = apigw.RestApi(
        stack,
        "Api",
        default_cors_preflight_options=apigw.CorsOptions(
            allow_origins=["https://a.example", "https://b.example"],
            allow_methods=["GET", "POST"],
        ),
    )
    api.root.add_resource("items").add_resource("{id}").add_method(
        "GET", apigw.LambdaIntegration(backend)
    )
    api.root.add_resource("secure").add_method(
        "GET",
        apigw.LambdaIntegration(backend),
        authorizer=apigw.TokenAuthorizer(stack, "TokenAuth", handler=authorizer),
    )
    api.root.add_resource("keyed").add_method(
        "GET", apigw.LambdaIntegration(backend), api_key_required=True
    )
    plan = api.add_usage_plan("Plan", throttle=apigw.ThrottleSettings(rate_limit=10, burst_limit=5))
    plan.add_api_key(api.add_api_key("Key", value=REST_API_KEY))
    plan.add_api_stage(stage=api.deployment_stage)
    api.root.add_resource("health").add_method(
        "GET",
        apigw.MockIntegration(
            request_templates={"application/json": '{"statusCode": 200}'},
            integration_responses=[
                apigw.IntegrationResponse(
                    status_code="200", response_templates={"application/json": '{"ok": true}'}
                )
            ],
        ),
        method_responses=[apigw.MethodResponse(status_code="200")],
    )
    queue = sqs.Queue(stack, "Queue")
    role = iam.Role(stack, "ApiRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"))
    queue.grant_send_messages(role)
    api.root.add_resource("messages").add_method(
        "POST",
        apigw.AwsIntegration(
            service="sqs",
            path=f"{stack.account}/{queue.queue_name}",
            integration_http_method="POST",
            options=apigw.IntegrationOptions(
                credentials_role=role,
                request_parameters={
                    "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
                },
                request_templates={
                    "application/json": (
                        "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
                    )
                },
                integration_responses=[apigw.IntegrationResponse(status_code="200")],
            ),
        ),
        method_responses=[apigw.MethodResponse(status_code="200")],
    )
    api.add_gateway_response(
        "Unauthorized",
        type=apigw.ResponseType.UNAUTHORIZED,
        status_code="401",
        templates={"application/json": '{"why": $context.error.messageString}'},
    )
    cdk.CfnOutput(stack, "QueueUrl", value=queue.queue_url)
    app.synth()
    return outdir


def synth_jsonata_machine(outdir: Path) -> Path:
    """A JSONata state machine from CDK's `.jsonata()` constructs: a Pass assigning a variable,
    then a LambdaInvoke whose output reads it."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_stepfunctions as sfn
    from aws_cdk import aws_stepfunctions_tasks as tasks

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, JSONATA_STACK)
    worker = lambda_.Function(
        stack,
        "Worker",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline(_DOUBLER),
    )
    remember = sfn.Pass.jsonata(
        stack,
        "Remember",
        assign={"customer": "{% $states.input.customer %}"},
        outputs={"n": "{% $states.input.n + 1 %}"},
    )
    double = tasks.LambdaInvoke.jsonata(
        stack,
        "Double",
        lambda_function=worker,
        payload=sfn.TaskInput.from_object({"n": "{% $states.input.n %}"}),
        assign={"doubled": "{% $states.result.Payload.n %}"},
        outputs={"customer": "{% $customer %}", "n": "{% $doubled %}"},
    )
    machine = sfn.StateMachine(
        stack,
        "Machine",
        query_language=sfn.QueryLanguage.JSONATA,
        definition_body=sfn.DefinitionBody.from_chainable(remember.next(double)),
    )
    cdk.CfnOutput(stack, "MachineArn", value=machine.state_machine_arn)
    app.synth()
    return outdir
