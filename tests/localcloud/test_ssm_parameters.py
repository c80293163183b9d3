"""SSM parameters from a template as CDK writes them: no `Name` (CloudFormation generates one,
which `Ref` gives) and `Tags` as a map of key to value."""

from __future__ import annotations

from localcloud.testing import App, ref


def _parameter_app(properties: dict) -> App:
    app = App()
    app.add(
        "KeysParameter1A2B3C4D",
        "AWS::SSM::Parameter",
        {"Type": "String", "Value": '{"keys": []}', **properties},
    )
    app.output("KeysParameterName", ref("KeysParameter1A2B3C4D"))
    return app


def test_an_unnamed_parameter_gets_a_generated_name_that_ref_gives(launch):
    cloud = launch(_parameter_app({"Tags": {"project": "serverless-patterns", "stage": "dev"}}))

    name = cloud.outputs("Stack")["KeysParameterName"]
    ssm = cloud.client("ssm")
    parameter = ssm.get_parameter(Name=name)["Parameter"]
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]

    assert "KeysParameter1A2B3C4D" in name
    assert parameter["Value"] == '{"keys": []}'
    assert {tag["Key"]: tag["Value"] for tag in tags} == {
        "project": "serverless-patterns",
        "stage": "dev",
    }


def test_a_named_parameter_keeps_its_name(launch):
    cloud = launch(_parameter_app({"Name": "/app/keys"}))

    assert cloud.outputs("Stack")["KeysParameterName"] == "/app/keys"
    assert cloud.client("ssm").get_parameter(Name="/app/keys")["Parameter"]["Value"] == (
        '{"keys": []}'
    )
