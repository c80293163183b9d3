"""pytest fixtures for end-to-end tests on localcloud's in-process mode.

Enable with `pytest_plugins = ["localcloud.pytest_plugin"]` in a conftest, point
`localcloud_assembly_dir` at a synthesized app (override the fixture; default `cdk.out`), then:

    def test_orders_flow(localcloud):
        outputs = localcloud.outputs("PubSub")
        localcloud.client("sns").publish(TopicArn=outputs["TopicArn"], Message="...")
        localcloud.settle()
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from localcloud.inprocess import LocalCloud


@pytest.fixture
def localcloud_assembly_dir() -> Path:
    """The cloud assembly to deploy; override it to synthesize once per session."""
    return Path("cdk.out")


@pytest.fixture
def localcloud(localcloud_assembly_dir: Path) -> Iterator[LocalCloud]:
    """Every stack of the assembly deployed onto a fresh in-process localcloud."""
    # Imported here: loading the plugin (every pytest start) must not load the engine.
    from localcloud.inprocess import LocalCloud

    with LocalCloud(localcloud_assembly_dir) as cloud:
        cloud.deploy()
        yield cloud
