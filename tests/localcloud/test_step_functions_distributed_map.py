"""A Distributed Map over an S3 prefix runs on localcloud as on Step Functions: every page of
the listing, no items for an empty prefix, and a failed item failing the map run."""

from __future__ import annotations

import json

from localcloud.testing import App, get_att, ref
from tests.localcloud.sfn_apps import WORKER, run, state_machine

LIST_OBJECTS = "arn:aws:states:::s3:listObjectsV2"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def _map_app() -> App:
    """A JSONata machine whose Distributed Map lists `prefix` in a bucket, `page` keys per
    ListObjectsV2 call, and has the worker double each object's size (`raise` in the input
    makes the worker fail every item)."""
    app = App()
    app.add("Bucket", "AWS::S3::Bucket", {})
    app.output("BucketName", ref("Bucket"))
    worker = app.function("Worker", WORKER)
    state_machine(
        app,
        "Machine",
        {
            "QueryLanguage": "JSONata",
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemReader": {
                        "Resource": LIST_OBJECTS,
                        "Arguments": {
                            "Bucket": ref("Bucket"),
                            "Prefix": "{% $states.input.prefix %}",
                        },
                    },
                    "ItemSelector": {
                        "n": "{% $states.context.Map.Item.Value.Size %}",
                        "raise": "{% $states.input.raise %}",
                    },
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "Double",
                        "States": {
                            "Double": {
                                "Type": "Task",
                                "Resource": LAMBDA_INVOKE,
                                "Arguments": {
                                    "FunctionName": get_att(worker),
                                    "Payload": "{% $states.input %}",
                                },
                                "Output": "{% $states.result.Payload.n %}",
                                "End": True,
                            }
                        },
                    },
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "Output": "{% $states.input %}", "End": True},
            },
        },
    )
    return app


def test_the_item_reader_lists_every_page_of_the_prefix(launch):
    cloud = launch(_map_app())
    bucket = cloud.outputs("Stack")["BucketName"]
    s3 = cloud.client("s3")
    for n in range(5):  # three pages of two keys
        s3.put_object(Bucket=bucket, Key=f"in/{n:05d}", Body=b"x")
    s3.put_object(Bucket=bucket, Key="elsewhere/0", Body=b"x")

    execution = run(
        cloud, cloud.outputs("Stack")["MachineArn"], {"prefix": "in/", "page": 2, "raise": None}
    )

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == [2] * 5


def test_an_empty_prefix_is_a_map_over_no_items(launch):
    cloud = launch(_map_app())

    execution = run(
        cloud,
        cloud.outputs("Stack")["MachineArn"],
        {"prefix": "nothing/", "page": 1000, "raise": None},
    )

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == []


def test_a_failed_item_fails_the_map_run_which_a_catch_handles(launch):
    cloud = launch(_map_app())
    bucket = cloud.outputs("Stack")["BucketName"]
    cloud.client("s3").put_object(Bucket=bucket, Key="in/a", Body=b"xy")

    execution = run(
        cloud,
        cloud.outputs("Stack")["MachineArn"],
        {"prefix": "in/", "page": 1000, "raise": "ValueError"},
    )

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {
        "Error": "States.ExceedToleratedFailureThreshold",
        "Cause": "The specified tolerated failure threshold was exceeded",
    }
