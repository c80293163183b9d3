"""Template fixtures for the infra tests (the app itself is synthesized in tests/conftest.py)."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from tests.synth import CloudAssembly


@pytest.fixture(scope="session")
def request_response(dev_assembly: CloudAssembly) -> Template:
    return dev_assembly.template("RequestResponse")


@pytest.fixture(scope="session")
def pub_sub(dev_assembly: CloudAssembly) -> Template:
    return dev_assembly.template("PubSub")


@pytest.fixture(scope="session")
def batching(dev_assembly: CloudAssembly) -> Template:
    return dev_assembly.template("Batching")


@pytest.fixture(scope="session")
def api_gateway_template(dev_assembly: CloudAssembly) -> Template:
    return dev_assembly.template("ApiGateway")


@pytest.fixture(scope="session")
def orchestration(dev_assembly: CloudAssembly) -> Template:
    return dev_assembly.template("Orchestration")
