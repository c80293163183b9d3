"""The dependency layer: built once per set of pins, stripped of what Lambda already has, and
taken from the cache by every later synth without running pip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from infra.config import LambdaArchitecture
from infra.constructs import dependency_layer
from infra.constructs.dependency_layer import build_layer, layer_key


def _fake_install(calls: list[list[str]]):
    def install(requirements: list[str], target: Path) -> None:
        calls.append(requirements)
        for package in ("pyiceberg", "pyarrow/include", "pyarrow/tests", "pydantic", "boto3"):
            (target / package).mkdir(parents=True)
            (target / package / "__init__.py").write_text("# installed\n")
        (target / "pyarrow" / "lib.py").write_text("x = 1\n")

    return install


def test_the_layer_is_built_once_per_set_of_pins_and_then_read_from_the_cache(tmp_path: Path):
    calls: list[list[str]] = []

    first = build_layer("etl-layer", cache=tmp_path, install=_fake_install(calls))
    second = build_layer("etl-layer", cache=tmp_path, install=_fake_install(calls))

    # pip ran once, with the group's pins; the second synth took the zip from the cache
    assert calls == [["pyiceberg==0.12.0", "pyarrow==26.0.1"]]
    assert second == first
    assert first.zip_path.parent == tmp_path
    assert first.key == layer_key("etl-layer", calls[0])
    # Lambda's layout (python/...), without what the runtime or Powertools' layer brings, or
    # what no import needs
    names = set(zipfile.ZipFile(first.zip_path).namelist())
    assert names == {"python/pyiceberg/__init__.py", "python/pyarrow/lib.py"}
    assert first.unzipped_bytes == len("# installed\n") + len("x = 1\n")


def test_another_pin_is_another_layer():
    assert layer_key("etl-layer", ["pyarrow==26.0.1"]) != layer_key(
        "etl-layer", ["pyarrow==26.0.0"]
    )


def test_each_architecture_has_its_own_layer(tmp_path: Path):
    arm64 = build_layer("etl-layer", cache=tmp_path, install=_fake_install([]))
    x86_64 = build_layer(
        "etl-layer",
        architecture=LambdaArchitecture.X86_64,
        cache=tmp_path,
        install=_fake_install([]),
    )

    assert x86_64.key != arm64.key
    assert x86_64.zip_path != arm64.zip_path


def test_a_layer_over_lambda_s_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(dependency_layer, "LAMBDA_UNZIPPED_LIMIT_BYTES", 5)

    with pytest.raises(ValueError, match="over Lambda's 250 MB"):
        build_layer("etl-layer", cache=tmp_path, install=_fake_install([]))
    assert list(tmp_path.glob("*.zip")) == []


def test_a_group_without_exact_pins_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        dependency_layer.tomllib,
        "loads",
        lambda _text: {"dependency-groups": {"loose": ["pyarrow>=20"]}},
    )
    with pytest.raises(ValueError, match="must pin each package"):
        dependency_layer.group_requirements("loose")
