"""Lambda durable functions under `localcloud up`: the durable-execution API over the endpoint.

The handler's checkpoints reach the endpoint from the SDK's own threads, over HTTP; the
control plane and callbacks come from a client of the endpoint; waits pass on the scaled
clock of the server's background delivery.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from localcloud import cli
from localcloud.server import LocalCloudServer
from localcloud.testing import App, ref
from tests.localcloud.durable_apps import APPROVAL, ORDERS, durable_function
from tests.localcloud.servers import REGION, client, deploy_over_endpoint


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudServer]:
    app = App()
    ledger = app.table("Ledger")
    environment = {"TABLE_NAME": ref(ledger)}
    durable_function(app, "Orders", ORDERS, environment={**environment, "WAIT_SECONDS": "60"})
    durable_function(
        app, "Approval", APPROVAL, environment={**environment, "CALLBACK_TIMEOUT_SECONDS": "3600"}
    )
    assembly: Path = app.write(tmp_path_factory.mktemp("durable-server") / "cdk.out")
    # A minute's wait passes in 0.06 s.
    with LocalCloudServer(port=0, region=REGION, time_scale=0.001) as running:
        deploy_over_endpoint(running, assembly, app.stack_name)
        yield running


@pytest.fixture
def outputs(server: LocalCloudServer) -> dict[str, str]:
    stack = client(server, "cloudformation").describe_stacks(StackName="Stack")["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def _until(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not (answer := condition()):
        assert time.monotonic() < deadline, "the execution did not get there in time"
        time.sleep(0.02)
    return answer


def test_a_callback_sent_to_the_endpoint_resumes_the_execution(server, outputs):
    lambda_ = client(server, "lambda")
    name = f"approval-{uuid.uuid4().hex[:8]}"
    started = lambda_.invoke(
        FunctionName=outputs["ApprovalAliasArn"],
        InvocationType="Event",
        Payload=json.dumps({"run": name}),
        DurableExecutionName=name,
    )
    arn = started["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]

    def callback_id():
        events = lambda_.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        started = [e for e in events if e["EventType"] == "CallbackStarted"]
        return started and started[0]["CallbackStartedDetails"]["CallbackId"]

    lambda_.send_durable_execution_callback_success(CallbackId=_until(callback_id), Result=b"42")

    def ended():
        described = lambda_.get_durable_execution(DurableExecutionArn=arn)
        return described if described["Status"] != "RUNNING" else None

    described = _until(ended)
    assert described["Status"] == "SUCCEEDED"
    assert json.loads(described["Result"]) == {"approved": True, "answer": "42"}
    listed = lambda_.list_durable_executions_by_function(
        FunctionName=outputs["ApprovalName"], DurableExecutionName=name
    )["DurableExecutions"]
    assert [execution["DurableExecutionArn"] for execution in listed] == [arn]
    with pytest.raises(ClientError) as stopped:
        lambda_.stop_durable_execution(DurableExecutionArn=f"{arn}-unknown")
    assert stopped.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_invoke_command_runs_a_durable_function_s_latest(server, outputs, tmp_path, capsys):
    # A synchronous invoke over the endpoint: its execution runs across its wait, on the
    # server's scaled clock.
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"run": uuid.uuid4().hex, "order": "o-2", "amount": 8}))

    status = cli.main(
        ["invoke", "Orders", "--event", str(event), "--endpoint-url", server.endpoint_url]
    )

    printed = capsys.readouterr().out
    assert status == 0
    assert f"-- {outputs['OrdersName']}:$LATEST" in printed
    assert f"function:{outputs['OrdersName']}:$LATEST/durable-execution/" in printed
    assert '"charged": 8' in printed
