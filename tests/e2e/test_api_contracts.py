"""Every HTTP API the project serves answers as its own OpenAPI document says, on localcloud.

For each API in the registry (`infra.registry.served_http_apis()`), its stack is deployed on
in-process localcloud, and schemathesis reads the document the API itself serves and runs
every phase (examples, coverage, fuzzing, stateful) with every check against it: no server
error, no undocumented status, no body, header or content type off its schema, schema-valid
data accepted and invalid data refused, 405 for methods a path does not serve, and a
deleted resource gone. A new pattern's API joins by registering an `HttpApi`.

The run is bounded and repeatable: a fixed seed, deterministic generation, no example
database, and `MAX_EXAMPLES` per operation and phase.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from infra import registry
from localcloud import LocalCloud
from tests.synth import CloudAssembly

if TYPE_CHECKING:
    from schemathesis.engine import events

#: Examples per operation in the fuzzing and stateful phases (the examples and coverage phases
#: are deterministic and do not depend on it). For the items API: 211 cases in ~9 s on this
#: machine, every documented status reached; 40 found nothing more in 536 cases and ~36 s.
MAX_EXAMPLES = 5
SEED = 20261202

SERVED_APIS = registry.served_http_apis()


def _wsgi_front(cloud: LocalCloud, api_url: str) -> Any:
    """A WSGI application that hands each request, unchanged, to the deployed API on
    localcloud (schemathesis calls WSGI applications in-process: no port, no thread)."""

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # The path as sent, percent-encoding kept, as API Gateway passes it on.
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        path = raw_path.partition("?")[0] or quote(environ.get("PATH_INFO", ""))
        query = environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {
            name[len("HTTP_") :].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers[name.replace("_", "-").lower()] = environ[name]
        response = cloud.http(
            environ["REQUEST_METHOD"],
            f"{api_url}{path}" + (f"?{query}" if query else ""),
            body=environ["wsgi.input"].read(length) if length else b"",
            headers=headers,
        )
        start_response(f"{response.status} -", list(response.headers.items()))
        return [response.content]

    return application


@dataclass
class ContractRun:
    """What schemathesis ran and found."""

    operations: set[str] = field(default_factory=set)
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, event: events.EngineEvent) -> None:
        from schemathesis.engine import events

        if isinstance(event, events.ScenarioFinished):
            self.operations.add(event.recorder.label)
            self.cases += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                self.failures.extend(
                    f"{event.recorder.label} [{event.phase.value}] {check.name}: "
                    f"{check.failure_info.failure.title}\n{check.failure_info.code_sample}"
                    for check in checks
                    if check.failure_info is not None
                )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            self.errors.append(str(event))


def _documented_operations(document: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }


@pytest.fixture(params=SERVED_APIS, ids=lambda served: f"{served[0].name}:{served[1].url_output}")
def deployed_api(
    request: pytest.FixtureRequest, dev_assembly: CloudAssembly
) -> Iterator[tuple[LocalCloud, str, registry.HttpApi]]:
    """The stack of one registered API deployed alone on a fresh localcloud, and its URL."""
    pattern, api = request.param
    with LocalCloud(dev_assembly.outdir) as cloud:
        cloud.deploy(pattern.stack_name)
        yield cloud, cloud.outputs(pattern.stack_name)[api.url_output].rstrip("/"), api


def test_api_answers_as_its_own_openapi_document_says(deployed_api):
    # Imported here: loading schemathesis takes seconds that only this test needs.
    import schemathesis

    # GIVEN a deployed API and the OpenAPI document it serves
    cloud, api_url, api = deployed_api
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
        }
    )
    config.projects.override.checks.update(included_check_names=["all"])
    schema = schemathesis.openapi.from_wsgi(
        api.openapi_path, _wsgi_front(cloud, api_url), config=config
    )

    # WHEN schemathesis runs every phase and every check against it
    run = ContractRun()
    for event in schemathesis.engine.from_schema(schema).execute():
        run.record(event)

    # THEN every documented operation was exercised, and no check failed
    assert run.errors == []
    assert _documented_operations(schema.raw_schema) <= run.operations
    assert run.cases >= len(run.operations) * MAX_EXAMPLES
    assert run.failures == [], "\n\n".join(run.failures)
