"""`localcloud run` finds a project's scenarios where the project names them, never in a
package of its own choosing: localcloud serves any CDK app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localcloud import cli


def test_the_scenario_package_comes_from_the_projects_cdk_json(tmp_path: Path) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"app": "python3 app.py", "localcloud": {"scenarios": "demo"}}))

    assert cli._scenario_package(cdk_json) == "demo"


@pytest.mark.parametrize("content", [None, {"app": "python3 app.py"}, {"localcloud": {}}])
def test_without_a_named_package_run_says_how_to_name_one(tmp_path: Path, content) -> None:
    cdk_json = tmp_path / "cdk.json"
    if content is not None:
        cdk_json.write_text(json.dumps(content))

    with pytest.raises(cli.CommandError, match=r"--scenarios.*\"localcloud\": \{\"scenarios\""):
        cli._scenario_package(cdk_json)


def test_the_projects_own_cdk_json_names_its_demo_scenarios() -> None:
    assert cli._scenario_package(Path(__file__).parents[3] / "cdk.json") == "demo"
