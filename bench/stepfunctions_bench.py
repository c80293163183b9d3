"""Benchmark of localcloud's Step Functions: the execution overhead per state.

Two state machines run a chain of N states: N Pass states, and N Task states that each invoke
one function (its real code, through the runner). Each execution is started, settled and
described; the only checks are that each one succeeded with the output the chain computes.
It prints figures and asserts nothing about time. From the repository root:

    .venv/bin/python -m bench.stepfunctions_bench [--states N] [--executions N]

`run(states=..., executions=...)` returns the figures (bench.localcloud_bench collects them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
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

STACK = "StepFunctionsBench"

# One more than its input: a chain of N Tasks turns {"n": 0} into {"n": N}.
INCREMENT_HANDLER = """\
def handler(event, context):
    return {"n": event["n"] + 1}
"""


def _chain(states: int, state: dict[str, Any]) -> str:
    """The ASL text of `states` copies of `state`, each going to the next."""
    names = [f"S{number:04}" for number in range(states)]
    body = {
        name: {**state, **({"Next": names[i + 1]} if i + 1 < states else {"End": True})}
        for i, name in enumerate(names)
    }
    return json.dumps({"StartAt": names[0], "States": body})


def write_bench_assembly(root: Path, *, states: int) -> None:
    """A stack with the increment function and the two chains, as `cdk synth` writes it."""
    asset_hash = hashlib.sha256(INCREMENT_HANDLER.encode()).hexdigest()

    def machine(definition: str) -> dict[str, Any]:
        return {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "RoleArn": {"Fn::GetAtt": ["MachineRole", "Arn"]},
                "DefinitionString": definition,
                "DefinitionSubstitutions": {"IncrementArn": {"Fn::GetAtt": ["Increment", "Arn"]}},
            },
        }

    template = {
        "Resources": {
            "IncrementRole": service_role("lambda.amazonaws.com"),
            "Increment": python_function("increment.handler", asset_hash, role="IncrementRole"),
            "MachineRole": service_role("states.amazonaws.com"),
            "PassChain": machine(_chain(states, {"Type": "Pass"})),
            "TaskChain": machine(_chain(states, {"Type": "Task", "Resource": "${IncrementArn}"})),
        },
        "Outputs": {
            "PassChainArn": {"Value": {"Ref": "PassChain"}},
            "TaskChainArn": {"Value": {"Ref": "TaskChain"}},
        },
    }
    write_assembly(root, STACK, template, {asset_hash: {"increment.py": INCREMENT_HANDLER}})


def _time_executions(
    cloud: LocalCloud, machine_arn: str, executions: int, expected_output: dict[str, int]
) -> float:
    """Seconds to run `executions` executions one after another, each checked."""
    sfn = cloud.client("stepfunctions")
    started = time.perf_counter()
    for _ in range(executions):
        arn = sfn.start_execution(stateMachineArn=machine_arn, input='{"n": 0}')["executionArn"]
        cloud.settle()
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "SUCCEEDED" or json.loads(described["output"]) != (
            expected_output
        ):
            raise RuntimeError(f"execution {arn} ended {described['status']}: {described}")
    return time.perf_counter() - started


def run(states: int = 50, executions: int = 20) -> dict[str, float]:
    """Run both chains `executions` times; returns the figures (seconds and microseconds)."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="sfn-bench-") as directory:
        root = Path(directory) / "cdk.out"
        write_bench_assembly(root, states=states)
        with LocalCloud(root) as cloud:
            cloud.deploy(STACK)
            outputs = cloud.outputs(STACK)
            # One execution first, so that the function's cold start is not in the figures.
            _time_executions(cloud, outputs["TaskChainArn"], 1, {"n": states})
            for label, arn, output in (
                ("pass", outputs["PassChainArn"], {"n": 0}),
                ("task", outputs["TaskChainArn"], {"n": states}),
            ):
                seconds = _time_executions(cloud, arn, executions, output)
                figures[f"{label}_chain_seconds"] = seconds
                figures[f"{label}_execution_ms"] = seconds / executions * 1000
                figures[f"{label}_state_us"] = seconds / (executions * states) * 1_000_000
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=50, help="states in each chain")
    parser.add_argument("--executions", type=int, default=20, help="executions of each chain")
    args = parser.parse_args(argv)

    # moto logs each state's evaluation and warns about template resources it does not model.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    print(f"Step Functions: {args.executions} executions of chains of {args.states} states")
    figures = run(states=args.states, executions=args.executions)
    print(f"\nSummary (Python {sys.version.split()[0]})\n")
    for label, name in (("pass", "Pass states"), ("task", "Lambda Task states")):
        print(
            f"  {name:<18}  {figures[f'{label}_state_us']:>9.0f} us per state"
            f"  {figures[f'{label}_execution_ms']:>9.1f} ms per execution"
        )


if __name__ == "__main__":
    main()
