"""Every HTTP API the project serves answers as its own OpenAPI document says, on localcloud.

For each API in the registry (`infra.registry.served_http_apis()`), its stack is deployed on
in-process localcloud, and schemathesis reads the API's document (the one the API serves, or
for a REST API the one API Gateway exports from the deployed stage), authenticates as the
registry's client credentials say, and runs every phase (examples, coverage, fuzzing,
stateful) with every check against it: no server error, no undocumented status, no body,
header or content type off its schema, schema-valid data accepted and invalid data refused,
credentials enforced, 405 for methods a path does not serve, and a deleted resource gone. A
new pattern's API joins by registering an `HttpApi`.

The run is bounded and repeatable: a fixed seed, deterministic generation, no example
database, and `MAX_EXAMPLES` per operation and phase.
"""

from __future__ import annotations

import importlib
import json
import re
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
#: What a request valid by the document may get (schemathesis's default): success, a refusal of
#: the caller, a missing or conflicting resource, a throttle, or a server error (which the
#: server-error check reports on its own).
POSITIVE_DATA_STATUSES = ("2xx", "3xx", "401", "403", "404", "409", "429", "5xx")


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
                    f"{check.failure_info.failure.title}: {check.failure_info.failure.message}"
                    f"\n{check.failure_info.code_sample}"
                    for check in checks
                    if check.failure_info is not None
                )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            self.errors.append(str(event))


_REST_API_STAGE_URL = re.compile(r"^(?P<root>.*/(?P<api_id>[a-z0-9]+)[^/]*)/(?P<stage>[^/]+)$")


def _exported_document(cloud: LocalCloud, api_url: str) -> tuple[dict[str, Any], str]:
    """The OpenAPI 3 document API Gateway exports from the stage `api_url` serves, and the URL
    its paths are under (the stage is the document's base path)."""
    found = _REST_API_STAGE_URL.match(api_url)
    assert found, f"not a REST API stage URL: {api_url}"
    api_id = found["api_id"].split(".")[0]
    exported = cloud.client("apigateway").get_export(
        restApiId=api_id, stageName=found["stage"], exportType="oas30", accepts="application/json"
    )
    document = json.loads(exported["body"].read())
    # CORS preflights (OPTIONS, answered by the gateway's mock integration for browsers) are in
    # the export but are no client's operation: `tests/e2e/test_api_gateway.py` holds them to
    # CORS. Left in, an undeclared method on their path would be expected to get 405, which a
    # REST API never answers (it answers 403 for any method a resource lacks).
    for operations in document["paths"].values():
        operations.pop("options", None)
    document["paths"] = {path: ops for path, ops in document["paths"].items() if ops}
    # API Gateway's validator wants a required parameter "included and not blank"; a REST API's
    # parameters carry no schema to say so, and its export types each as a plain string.
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["required"]:
                    parameter["schema"] = {**parameter["schema"], "minLength": 1}
    return document, found["root"]


def _client_credentials(api: registry.HttpApi, cloud: LocalCloud) -> dict[str, str]:
    """The credentials the registry names for `api`, by security scheme; none if it names none."""
    if api.credentials is None:
        return {}
    module_name, function_name = api.credentials.split(":")
    return getattr(importlib.import_module(module_name), function_name)(cloud)


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


def _probes_reach_wsgi_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis (4.32.5) resends a request without its credentials, to check that an API
    enforces them, with the network settings (`max_redirects`, `verify`...) its WSGI transport
    drops only from calls that carry a session; werkzeug refuses them. Drop them there too."""
    from schemathesis.transport.wsgi import WSGITransport

    send = WSGITransport.send

    def send_without_network_settings(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_without_network_settings)


def test_api_answers_as_its_own_openapi_document_says(deployed_api, monkeypatch):
    # Imported here: loading schemathesis takes seconds that only this test needs.
    import schemathesis

    _probes_reach_wsgi_apps(monkeypatch)

    # GIVEN a deployed API, its OpenAPI document and a client's credentials
    cloud, api_url, api = deployed_api
    credentials = _client_credentials(api, cloud)
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": [*POSITIVE_DATA_STATUSES, *api.domain_refusals]
                }
            },
            **(
                {
                    "auth": {
                        "openapi": {name: {"api_key": value} for name, value in credentials.items()}
                    }
                }
                if credentials
                else {}
            ),
        }
    )
    config.projects.override.checks.update(included_check_names=["all"])
    if api.openapi_path is not None:
        schema = schemathesis.openapi.from_wsgi(
            api.openapi_path, _wsgi_front(cloud, api_url), config=config
        )
    else:
        document, root_url = _exported_document(cloud, api_url)
        schema = schemathesis.openapi.from_dict(document, config=config)
        schema.app = _wsgi_front(cloud, root_url)

    # WHEN schemathesis runs every phase and every check against it
    run = ContractRun()
    for event in schemathesis.engine.from_schema(schema).execute():
        run.record(event)

    # THEN every documented operation was exercised, and no check failed
    assert run.errors == [], "\n".join(run.errors)
    assert _documented_operations(schema.raw_schema) <= run.operations
    assert run.cases >= len(run.operations) * MAX_EXAMPLES
    assert run.failures == [], "\n\n".join(run.failures)
