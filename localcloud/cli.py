"""The `localcloud` command: up, deploy, outputs, invoke, run, diagram.

localcloud up [--port 4566]                 serve the endpoint until stopped
localcloud deploy [STACK ...]               cdk bootstrap + cdk deploy onto it
localcloud outputs STACK                    the stack's outputs
localcloud invoke FUNCTION --event FILE|-   invoke a function, print response and logs
localcloud run PATTERN                      drive a pattern's scenario, print its trace
localcloud diagram STACK                    print the stack's wiring as a Mermaid flowchart
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import importlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from localcloud.core.assembly import load_assembly
from localcloud.diagram import render as render_diagram
from localcloud.inprocess import BOOTSTRAP_VERSION_PARAMETER
from localcloud.remote import EndpointUnreachableError, RemoteCloud
from localcloud.server import LocalCloudServer, cdk_environment

DEFAULT_PORT = 4566
DEFAULT_ENDPOINT = f"http://localhost:{DEFAULT_PORT}"
DEFAULT_REGION = "eu-west-1"
# Where the AWS CLI and SDKs read the endpoint and region when no option names them.
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
ACCOUNT_ID = "123456789012"
# How long `localcloud up` waits for its server and engine to stop after a signal.
STOP_GRACE_SECONDS = 3.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcloud", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="serve an AWS-compatible endpoint until stopped")
    up.add_argument(
        "--port",
        type=int,
        help=f"the port to listen on (default: the port of a local ${ENDPOINT_VARIABLE}, "
        f"then {DEFAULT_PORT})",
    )
    up.add_argument(
        "--region",
        help=f"the region served (default: ${REGION_VARIABLES[0]}, then "
        f"${REGION_VARIABLES[1]}, then {DEFAULT_REGION})",
    )
    up.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply every wait (visibility timeouts, batching windows, retry delays); "
        "1 is AWS's timing, 0.01 makes a 3-minute visibility timeout 2 s",
    )

    for name, help_text in [
        ("deploy", "cdk bootstrap + cdk deploy onto a running localcloud"),
        ("outputs", "print a deployed stack's outputs"),
        ("invoke", "invoke a deployed function; print its response and log lines"),
        ("run", "drive a pattern's scenario against a running localcloud"),
    ]:
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--endpoint-url",
            help=f"the running localcloud (default: ${ENDPOINT_VARIABLE}, then {DEFAULT_ENDPOINT})",
        )
        command.add_argument(
            "--region",
            help=f"the region to use (default: ${REGION_VARIABLES[0]}, then "
            f"${REGION_VARIABLES[1]}, then the region the endpoint serves)",
        )
    commands.choices["deploy"].add_argument(
        "stacks",
        nargs="*",
        metavar="STACK",
        help="the stacks to deploy, by name or pattern (default: every stack of the app)",
    )
    commands.choices["deploy"].add_argument(
        "--app", help="a synthesized cloud assembly (cdk.out) or app command; default: cdk.json"
    )
    commands.choices["outputs"].add_argument("stack", metavar="STACK", help="a deployed stack")
    commands.choices["outputs"].add_argument(
        "--json", action="store_true", help="print the outputs as one JSON object"
    )
    commands.choices["invoke"].add_argument(
        "function",
        metavar="FUNCTION",
        help="a deployed function's name, or a unique part of one; `:QUALIFIER` names a version "
        "or an alias (a durable function without one runs its $LATEST)",
    )
    commands.choices["invoke"].add_argument("--event", required=True, help="a JSON file, or -")
    commands.choices["run"].add_argument(
        "pattern", metavar="PATTERN", help="the scenario module to run, e.g. pub_sub"
    )
    commands.choices["run"].add_argument(
        "--scenarios",
        help="the package holding one scenario module per pattern "
        '(default: "localcloud": {"scenarios": ...} in ./cdk.json)',
    )

    diagram = commands.add_parser(
        "diagram", help="print a synthesized stack's wiring as a Mermaid flowchart"
    )
    diagram.add_argument("stack", metavar="STACK")
    diagram.add_argument(
        "--app", default="cdk.out", help="the synthesized cloud assembly (default: cdk.out)"
    )

    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except EndpointUnreachableError as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"localcloud {args.command}: {error}", file=sys.stderr)
        return 2


class CommandError(Exception):
    """The command cannot go on; its message says why."""


def up(args: argparse.Namespace) -> int:
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    region = _chosen_region(args) or DEFAULT_REGION
    port = args.port or _port_of_local_endpoint(os.environ.get(ENDPOINT_VARIABLE)) or DEFAULT_PORT
    server = LocalCloudServer(port=port, region=region, time_scale=args.time_scale)
    try:
        server.start()
    except OSError as error:
        raise CommandError(
            f"cannot listen on port {port}: {error}; choose another with --port"
        ) from error
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    print(f"localcloud is up at {server.endpoint_url} (region {region})", flush=True)
    print(
        f"  export AWS_ENDPOINT_URL={server.endpoint_url} AWS_REGION={region} "
        f"AWS_DEFAULT_REGION={region} "
        "AWS_ACCESS_KEY_ID=localcloud AWS_SECRET_ACCESS_KEY=localcloud",
        flush=True,
    )
    announced: set[str] = set()
    while not stop.wait(0.5):
        for api in server.engine.apis():
            if api["id"] not in announced:
                announced.add(api["id"])
                print(f"API {api['name']} is at {api['url']}", flush=True)
    print("localcloud is stopping", flush=True)
    # A delivery still running a handler gets a few seconds to end; then the process ends
    # without tearing its interpreter down, which with moto's state loaded takes seconds of
    # a busy core and frees nothing that outlives the process.
    stopper = threading.Thread(target=server.stop, name="localcloud-stop", daemon=True)
    stopper.start()
    stopper.join(STOP_GRACE_SECONDS)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _port_of_local_endpoint(endpoint_url: str | None) -> int | None:
    """The port of `endpoint_url` when it names this machine: `up` serves where the shell's
    `AWS_ENDPOINT_URL` points, so the CLI, the AWS CLI and the SDKs find it there."""
    if not endpoint_url:
        return None
    parts = urlsplit(endpoint_url)
    if parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return None
    return parts.port


def deploy(args: argparse.Namespace) -> int:
    cloud = _connect(args)
    environment = cdk_environment(cloud.endpoint_url, cloud.region)
    cdk = _cdk_command()
    started = time.perf_counter()
    assembly = _synthesized(args.app, cdk, environment)
    _check_stacks_exist(args.stacks, assembly)
    # Deploying the assembly just read (not the app again) synthesizes once, and deploys what
    # was checked.
    app = ["--app", str(assembly)]
    in_place, required = _bootstrap_version(cloud), _required_bootstrap_version(assembly)
    if in_place is not None and in_place >= required:
        # A second `cdk bootstrap` would change nothing and costs a CDK CLI run (seconds).
        print(f"bootstrap version {in_place} is in place (the app needs {required})")
    else:
        _run([*cdk, "bootstrap", f"aws://{ACCOUNT_ID}/{cloud.region}", *app], environment)
    targets = args.stacks or ["--all"]
    _run([*cdk, "deploy", *targets, "--require-approval", "never", *app], environment)
    print(f"deployed in {time.perf_counter() - started:.1f} s")
    for api in cloud.apis():
        print(f"API {api['name']} is at {api['url']}")
    return 0


def _bootstrap_version(cloud: RemoteCloud) -> int | None:
    """The version `cdk bootstrap` left on the endpoint, where the CDK CLI reads it; None when
    it has not run there."""
    ssm = cloud.client("ssm")
    try:
        parameter = ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
    except ssm.exceptions.ParameterNotFound:
        return None
    return int(parameter["Parameter"]["Value"])


def _required_bootstrap_version(assembly: Path) -> int:
    """The newest bootstrap version any stack or asset of the assembly requires."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    return max(
        (
            int(artifact.get("properties", {}).get("requiresBootstrapStackVersion", 0))
            for artifact in manifest.get("artifacts", {}).values()
        ),
        default=0,
    )


def _synthesized(app: str | None, cdk: list[str], environment: dict[str, str]) -> Path:
    """The cloud assembly to deploy: `app` when it is one, else the app synthesized by the CDK
    CLI into the project's output folder (`"output"` in cdk.json, else cdk.out)."""
    if app and Path(app).is_dir():
        return Path(app)
    try:
        settings = json.loads((Path.cwd() / "cdk.json").read_text())
    except (OSError, ValueError):
        settings = {}
    output = Path(settings.get("output") or "cdk.out")
    _run(
        [*cdk, "synth", "--quiet", "--output", str(output), *(["--app", app] if app else [])],
        environment,
    )
    return output


def _check_stacks_exist(wanted: list[str], assembly: Path) -> None:
    """Fail before anything is deployed when a named stack (or pattern, as the CDK CLI takes
    them) matches no stack of the app."""
    try:
        names = list(load_assembly(assembly))
    except FileNotFoundError as error:
        raise CommandError(str(error)) from error
    unknown = [
        pattern
        for pattern in wanted
        if not any(fnmatch.fnmatchcase(name, pattern) for name in names)
    ]
    if unknown:
        raise CommandError(
            f"no stack {', '.join(map(repr, unknown))} in the app; it has "
            f"{', '.join(names) or 'no stack'}"
        )


def outputs(args: argparse.Namespace) -> int:
    cloud = _connect(args)
    try:
        values = cloud.outputs(args.stack)
    except cloud.client("cloudformation").exceptions.ClientError as error:
        deployed = [
            stack["StackName"]
            for page in cloud.client("cloudformation").get_paginator("describe_stacks").paginate()
            for stack in page["Stacks"]
        ]
        raise CommandError(
            f"no stack {args.stack!r} is deployed in {cloud.region}; deployed: "
            f"{', '.join(sorted(deployed)) or 'none'}"
        ) from error
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        for key, value in values.items():
            print(f"{key}\t{value}")
    return 0


def invoke(args: argparse.Namespace) -> int:
    cloud = _connect(args)
    text = sys.stdin.read() if args.event == "-" else _read(Path(args.event))
    try:
        event = json.loads(text)
    except ValueError as error:
        raise CommandError(f"the event is not JSON: {error}") from error
    wanted, _, qualifier = args.function.partition(":")
    name, durable = _function_name(cloud, wanted)
    if durable and not qualifier:
        # Lambda runs a durable function only through a qualified ARN.
        qualifier = "$LATEST"
    invoked = f"{name}:{qualifier}" if qualifier else name
    response = cloud.client("lambda").invoke(
        FunctionName=invoked, Payload=json.dumps(event).encode(), LogType="Tail"
    )
    payload = response["Payload"].read().decode()
    logs = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
    print(f"-- {invoked}")
    execution = response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-durable-execution-arn")
    if execution:
        print(f"durable execution {execution}")
    print(logs.rstrip())
    print(
        "-- response"
        + (f" (error: {response['FunctionError']})" if "FunctionError" in response else "")
    )
    try:
        print(json.dumps(json.loads(payload), indent=2))
    except ValueError:
        print(payload)
    return 1 if "FunctionError" in response else 0


def _scenario_package(cdk_json: Path) -> str:
    """The package a project names for its scenarios in cdk.json (`"localcloud"` settings)."""
    try:
        settings = json.loads(cdk_json.read_text()).get("localcloud") or {}
    except (OSError, ValueError):
        settings = {}
    if not settings.get("scenarios"):
        raise CommandError(
            "name the package of scenario modules with --scenarios, or in cdk.json as "
            '"localcloud": {"scenarios": "<package>"}'
        )
    return str(settings["scenarios"])


def run(args: argparse.Namespace) -> int:
    cloud = _connect(args)
    # The scenarios belong to the project in the current directory, as cdk.json does.
    package = args.scenarios or _scenario_package(Path.cwd() / "cdk.json")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    module = f"{package}.{args.pattern}"
    try:
        scenario = importlib.import_module(module)
    except ModuleNotFoundError as error:
        # Only a missing package or scenario module means there is no such scenario; one that
        # exists but imports what is not installed says so.
        if error.name is not None and (module + ".").startswith(error.name + "."):
            raise CommandError(f"no scenario {args.pattern!r} in {package!r}") from error
        raise CommandError(
            f"the scenario {args.pattern!r} in {package!r} cannot be imported: {error}"
        ) from error
    started = time.perf_counter()
    outcome = scenario.run(cloud)
    print(
        f"\n{args.pattern}: {outcome.invocations} invocations, {outcome.processed} items "
        f"processed, {outcome.in_dead_letter_queues} in DLQs, "
        f"{time.perf_counter() - started:.2f} s"
    )
    return 0


def diagram(args: argparse.Namespace) -> int:
    try:
        stacks = load_assembly(args.app)
    except FileNotFoundError as error:
        raise CommandError(str(error)) from error
    if args.stack not in stacks:
        known = ", ".join(stacks) or "none"
        raise CommandError(f"no stack {args.stack!r} in {args.app}; it has {known}")
    sys.stdout.write(render_diagram(stacks[args.stack]))
    return 0


def _chosen_region(args: argparse.Namespace) -> str | None:
    """The region the user chose, as the AWS CLI reads it: the option, then the environment."""
    if args.region:
        return args.region
    return next((os.environ[name] for name in REGION_VARIABLES if os.environ.get(name)), None)


def _connect(args: argparse.Namespace) -> RemoteCloud:
    """The running localcloud the user points at, checked to answer, in the region it serves.

    The endpoint comes from `--endpoint-url`, then `AWS_ENDPOINT_URL`, then the default, as the
    AWS CLI and SDKs choose theirs; so the shell `localcloud up` sets up reaches the same one.
    """
    if args.endpoint_url:
        endpoint, source = args.endpoint_url, "--endpoint-url"
    elif os.environ.get(ENDPOINT_VARIABLE):
        endpoint, source = os.environ[ENDPOINT_VARIABLE], f"${ENDPOINT_VARIABLE}"
    else:
        endpoint, source = DEFAULT_ENDPOINT, "the default"
    probe = RemoteCloud(endpoint, region=args.region or DEFAULT_REGION)
    try:
        served = probe.health()["region"]
    except EndpointUnreachableError as error:
        raise EndpointUnreachableError(
            f"{error}. To use another endpoint, pass --endpoint-url or set "
            f"{ENDPOINT_VARIABLE} (this one came from {source})."
        ) from error
    region = _chosen_region(args) or served
    if region != served:
        # Everything would deploy, but the engine runs functions and delivers in its own
        # region only: nothing deployed elsewhere would ever run.
        raise CommandError(
            f"localcloud at {probe.endpoint_url} serves region {served}, not {region}: "
            f"pass --region {served} (or set {REGION_VARIABLES[0]}), or start localcloud with "
            f"`localcloud up --region {region}`"
        )
    return RemoteCloud(endpoint, region=region)


def _function_name(cloud: RemoteCloud, wanted: str) -> tuple[str, bool]:
    """The deployed function named `wanted`, or the only one whose name contains it; and
    whether it is a durable function."""
    durable = {
        function["FunctionName"]: "DurableConfig" in function
        for page in cloud.client("lambda").get_paginator("list_functions").paginate()
        for function in page["Functions"]
    }
    names = list(durable)
    if wanted in names:
        return wanted, durable[wanted]
    matches = [name for name in names if wanted.lower() in name.lower()]
    if len(matches) == 1:
        return matches[0], durable[matches[0]]
    known = ", ".join(sorted(names)) or "none"
    if not matches:
        raise CommandError(f"no function matches {wanted!r}; deployed: {known}")
    raise CommandError(f"{wanted!r} matches several functions: {', '.join(sorted(matches))}")


def _cdk_command() -> list[str]:
    local = Path("node_modules/.bin/cdk")
    if local.exists():
        return [str(local)]
    if shutil.which("cdk"):
        return ["cdk"]  # a CDK CLI installed outside the project
    if shutil.which("npx"):
        return ["npx", "--no-install", "cdk"]
    raise CommandError("the CDK CLI is not installed here: run `npm ci` (or `make install`)")


def _run(command: list[str], environment: dict[str, str]) -> None:
    print(f"$ {' '.join(command)}", flush=True)
    completed = subprocess.run(command, env=environment, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise CommandError(f"`{' '.join(command)}` failed with exit code {completed.returncode}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise CommandError(f"cannot read the event: {error}") from error


COMMANDS: dict[str, Any] = {
    "up": up,
    "deploy": deploy,
    "outputs": outputs,
    "invoke": invoke,
    "run": run,
    "diagram": diagram,
}
