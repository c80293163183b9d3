"""The app on each Node: 22 and 24 as they are; 20 in one plain line, jsii's banner kept quiet."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from infra.node_runtime import SUPPORTED_MAJORS, announce_node_version, node_major

BANNERS = (
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION",
)


@pytest.fixture
def no_silenced_banners(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in BANNERS:
        monkeypatch.delenv(name, raising=False)


def test_on_node_20_the_app_says_so_once_and_quiets_jsiis_byte_banner(
    no_silenced_banners, capsys: pytest.CaptureFixture[str]
):
    said = announce_node_version(20)

    assert said == capsys.readouterr().err.strip()
    assert said.startswith("Node 20 is past its end of life")
    assert "Node 22 or 24 (LTS)" in said
    assert os.environ[BANNERS[0]] == "20"
    assert os.environ[BANNERS[1]] == "1"


@pytest.mark.parametrize("major", SUPPORTED_MAJORS)
def test_on_a_supported_node_nothing_is_said_or_silenced(
    no_silenced_banners, capsys: pytest.CaptureFixture[str], major: int
):
    assert announce_node_version(major) is None
    assert capsys.readouterr().err == ""
    assert not [name for name in BANNERS if name in os.environ]


def test_the_node_on_path_is_read_by_its_major_version():
    assert isinstance(node_major(), int)


def test_package_json_declares_the_supported_nodes_and_pins_the_cdk_cli_exactly():
    package = json.loads(Path("package.json").read_text())

    assert package["engines"]["node"] == "^20.19.0 || ^22.12.0 || >=24.0.0"
    # An exact 2.x release: never a range or a tag that could take 3.0.0, which cannot read
    # this app's cloud assembly.
    cli = package["devDependencies"]["aws-cdk"]
    assert cli.split(".")[0] == "2"
    assert all(part.isdigit() for part in cli.split("."))
