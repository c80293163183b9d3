"""A fresh in-process localcloud per test, with a hand-written app deployed on it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localcloud import LocalCloud
from localcloud.testing import App


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[[App], LocalCloud]]:
    """`launch(app)` writes the app's assembly, deploys it and returns the running cloud."""
    with contextlib.ExitStack() as running:

        def launch(app: App) -> LocalCloud:
            cloud = running.enter_context(LocalCloud(app.write(tmp_path / "cdk.out")))
            cloud.deploy(app.stack_name)
            return cloud

        yield launch
