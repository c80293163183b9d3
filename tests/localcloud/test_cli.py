"""The `localcloud` command against a running endpoint: which endpoint and region it uses, what
it says when it cannot go on, and that it fails before changing anything."""

from __future__ import annotations

import json
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import LocalCloud, cli
from localcloud.inprocess import BOOTSTRAP_VERSION_PARAMETER
from localcloud.server import LocalCloudServer
from localcloud.testing import App
from tests.localcloud.servers import REGION, client, deploy_over_endpoint

CLIENT_COMMANDS = ["deploy", "outputs", "invoke", "run"]


def _queue_app(stack_name: str = "CliQueues") -> App:
    app = App(stack_name=stack_name)
    app.queue("Inbox")
    return app


def _unused_port() -> int:
    """A port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server() -> Iterator[LocalCloudServer]:
    with LocalCloudServer(port=0, region=REGION, background=False) as running:
        yield running


@pytest.fixture
def deployed(server: LocalCloudServer, tmp_path: Path) -> tuple[LocalCloudServer, str]:
    """The server with a stack whose name no other localcloud would hold."""
    app = _queue_app(f"CliQueues{server.port}")
    deploy_over_endpoint(server, app.write(tmp_path / "cdk.out"), app.stack_name)
    return server, app.stack_name


def _outputs_of(server: LocalCloudServer, stack_name: str) -> dict[str, str]:
    stack = client(server, "cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def test_without_the_option_the_endpoint_comes_from_aws_endpoint_url(
    deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    server, stack_name = deployed
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)

    exit_code = cli.main(["outputs", stack_name, "--json"])

    assert exit_code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out) == _outputs_of(server, stack_name)


def test_the_option_wins_over_aws_endpoint_url(
    deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    server, stack_name = deployed
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{_unused_port()}")

    exit_code = cli.main(["outputs", stack_name, "--json", "--endpoint-url", server.endpoint_url])

    assert exit_code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out) == _outputs_of(server, stack_name)


@pytest.mark.parametrize("command", CLIENT_COMMANDS)
def test_an_unreachable_endpoint_is_named_with_how_to_choose_another(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    endpoint = f"http://localhost:{_unused_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    arguments = {
        "deploy": [],
        "outputs": ["AnyStack"],
        "invoke": ["any-function", "--event", "-"],
        "run": ["pub_sub", "--scenarios", "demo"],
    }[command]

    exit_code = cli.main([command, *arguments])

    error = capsys.readouterr().err
    assert exit_code == 2
    assert f"no localcloud at {endpoint}" in error
    assert "--endpoint-url" in error
    assert "AWS_ENDPOINT_URL" in error


@pytest.mark.parametrize("command", CLIENT_COMMANDS)
def test_every_client_command_documents_its_endpoint_and_region_options(
    command: str, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert "--endpoint-url ENDPOINT_URL the running localcloud (default: $AWS_ENDPOINT_URL" in (
        help_text
    )
    assert "--region REGION the region to use (default: $AWS_REGION" in help_text


def test_a_region_the_endpoint_does_not_serve_is_refused_naming_both(
    deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    server, stack_name = deployed
    monkeypatch.setenv("AWS_REGION", "us-east-1")

    exit_code = cli.main(["outputs", stack_name, "--endpoint-url", server.endpoint_url])

    error = capsys.readouterr().err
    assert exit_code == 2
    assert f"serves region {REGION}, not us-east-1" in error
    assert f"--region {REGION}" in error


def test_without_a_region_the_endpoints_own_is_used(
    deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    server, stack_name = deployed
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    exit_code = cli.main(["outputs", stack_name, "--json", "--endpoint-url", server.endpoint_url])

    assert exit_code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out) == _outputs_of(server, stack_name)


def test_deploying_a_stack_the_app_lacks_fails_naming_its_stacks_before_bootstrapping(
    server: LocalCloudServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assembly = _queue_app().write(tmp_path / "cdk.out")

    exit_code = cli.main(
        ["deploy", "NoSuchStack", "--app", str(assembly), "--endpoint-url", server.endpoint_url]
    )

    assert exit_code == 2
    assert "no stack 'NoSuchStack' in the app; it has CliQueues" in capsys.readouterr().err
    # Nothing was bootstrapped: no version marker, no asset bucket.
    ssm = client(server, "ssm")
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
    assert client(server, "s3").list_buckets()["Buckets"] == []


def test_in_process_a_stack_the_assembly_lacks_fails_before_bootstrapping(tmp_path: Path):
    with LocalCloud(_queue_app().write(tmp_path / "cdk.out")) as cloud:
        with pytest.raises(KeyError, match="no stack 'NoSuchStack' in the assembly"):
            cloud.deploy("CliQueues", "NoSuchStack")

        ssm = cloud.client("ssm")
        with pytest.raises(ssm.exceptions.ParameterNotFound):
            ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
        assert cloud.client("sqs").list_queues().get("QueueUrls", []) == []


def test_up_on_a_port_in_use_fails_and_leaves_no_code_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    # Folders are made in a temporary directory of this test's own, so only ours are seen.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]

        exit_code = cli.main(["up", "--port", str(port)])

    assert exit_code == 2
    assert f"cannot listen on port {port}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    # The failed start left no engine running: another server starts.
    with LocalCloudServer(port=0, background=False) as server:
        assert server.engine is not None


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("no_such_pattern", "no scenario 'no_such_pattern' in 'scenarios_"),
        ("needs_a_missing_module", "cannot be imported: No module named 'not_installed_anywhere'"),
    ],
)
def test_run_tells_a_missing_scenario_from_one_that_cannot_be_imported(
    pattern: str,
    expected: str,
    server: LocalCloudServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    # A name of its own, so no package imported earlier answers for it.
    package = tmp_path / f"scenarios_{uuid.uuid4().hex[:8]}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "needs_a_missing_module.py").write_text("import not_installed_anywhere\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    exit_code = cli.main(
        ["run", pattern, "--scenarios", package.name, "--endpoint-url", server.endpoint_url]
    )

    assert exit_code == 2
    assert expected in capsys.readouterr().err


def test_outputs_of_a_stack_not_deployed_names_the_deployed_stacks(
    deployed, capsys: pytest.CaptureFixture[str]
):
    server, stack_name = deployed

    exit_code = cli.main(["outputs", "NoSuchStack", "--endpoint-url", server.endpoint_url])

    assert exit_code == 2
    assert (
        f"no stack 'NoSuchStack' is deployed in {REGION}; deployed: {stack_name}"
        in capsys.readouterr().err
    )


def test_up_listens_where_a_local_aws_endpoint_url_points(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    # The port is held, so `up` fails at once, naming the port it chose.
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{port}")

        exit_code = cli.main(["up"])

    assert exit_code == 2
    assert f"cannot listen on port {port}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("endpoint_url", "port"),
    [
        ("http://localhost:4577", 4577),
        ("http://127.0.0.1:4600/", 4600),
        ("https://sqs.eu-west-1.amazonaws.com", None),
        ("http://localhost", None),
        ("", None),
    ],
)
def test_only_a_local_endpoint_url_chooses_the_port_up_listens_on(
    endpoint_url: str, port: int | None
):
    assert cli._port_of_local_endpoint(endpoint_url) == port
