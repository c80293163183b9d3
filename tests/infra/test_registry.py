"""The pattern registry: README's table, each stack's outputs, and each pattern's modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import registry
from tests.synth import CloudAssembly

PROJECT = Path(__file__).resolve().parents[2]
DEPLOYABLE = registry.deployable()

#: The modules every pattern's `functions/<name>/` has (handlers aside): one dialect.
FUNCTION_MODULES = ("contract", "logic", "adapters", "models", "settings", "errors")


def _readme_pattern_table() -> str:
    section = (PROJECT / "README.md").read_text().split("\n## Patterns\n\n", 1)[1]
    return section.split("\n\n", 1)[0] + "\n"


def test_readme_pattern_table_is_the_registry_s():
    # Regenerate with `python -m infra.registry` when this fails.
    assert _readme_pattern_table() == registry.readme_table()


@pytest.mark.parametrize("pattern", DEPLOYABLE, ids=lambda pattern: pattern.name)
def test_each_stack_outputs_what_its_registry_entry_lists(
    dev_assembly: CloudAssembly, pattern: registry.Pattern
):
    outputs = dev_assembly.templates[pattern.stack_name]["Outputs"]
    assert list(outputs) == list(pattern.outputs)
    assert registry.OUTPUT_ALARM_TOPIC_ARN in outputs


def test_every_served_api_is_found_through_one_of_its_stack_s_outputs():
    # GIVEN the registered HTTP APIs THEN each names an output its stack creates, so the
    # contract test can reach it, and a document it serves or API Gateway exports; the items
    # API serves its own, the API gateway's REST API has its exported, with credentials
    served = registry.served_http_apis()
    for pattern, api in served:
        assert api.url_output in pattern.outputs
        assert api.openapi_path is None or api.openapi_path.startswith("/")
    by_pattern = {pattern.name: api for pattern, api in served}
    assert by_pattern["request_response"].openapi_path == "/openapi.json"
    assert by_pattern["api_gateway"].openapi_path is None
    assert by_pattern["api_gateway"].credentials == "demo.api_gateway:client_credentials"


@pytest.mark.parametrize("pattern", DEPLOYABLE, ids=lambda pattern: pattern.name)
def test_each_pattern_has_its_modules_in_every_tree(pattern: registry.Pattern):
    name = pattern.name
    assert pattern.stack_class().pattern_name == name
    assert pattern.scenario == f"demo.{name}"
    for path in (
        f"infra/patterns/{name}.py",
        f"demo/{name}.py",
        pattern.doc_page,
        f"events/{name}",
        f"tests/unit/{name}",
        f"tests/functional/{name}",
        *(f"functions/{name}/{module}.py" for module in FUNCTION_MODULES),
    ):
        assert (PROJECT / path).exists(), path


def test_demo_runs_the_scenario_of_every_pattern_that_has_one():
    from demo.__main__ import SCENARIOS

    assert list(SCENARIOS) == [p.name for p in registry.PATTERNS if p.scenario]


def test_a_pattern_name_the_registry_does_not_know_is_refused_by_name():
    with pytest.raises(KeyError, match="no pattern 'pubsub'"):
        registry.pattern("pubsub")
