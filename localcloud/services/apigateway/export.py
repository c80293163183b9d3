"""`GetExport` of a REST API stage: the OpenAPI document API Gateway writes for it.

moto answers every export with a Swagger 2.0 skeleton (paths and status codes, every schema
`Empty`), whatever the export type: no parameters, bodies, models, security or extensions, so
a client generated from it, or a contract test driven by it, knows nothing of the API. This
hook reads the API's declared parts from moto's backend and lets `rules.openapi_export` write
the document (`oas30` or `swagger`, the `extensions` parameter honoured).

The server URL is the one localcloud serves the API at when it runs behind an endpoint, and the
API's AWS URL in process. A YAML export is answered with the JSON text, which is also YAML.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from moto.apigateway import responses as apigateway_responses
from moto.apigateway.exceptions import BadRequestException, StageNotFoundException

from localcloud.core import apifront
from localcloud.core.engine import active_engine_or_none
from localcloud.core.hooks import Hook
from localcloud.rules import openapi_export


def describe(api: Any, stage: Any, *, region: str, endpoint_url: str | None) -> Any:
    """What `api` declares, as `rules.openapi_export` takes it."""
    base_url = (
        apifront.local_url(endpoint_url, api.id)
        if endpoint_url
        else f"https://{api.id}.execute-api.{region}.amazonaws.com/"
    )
    deployment = api.deployments.get(stage.deployment_id)
    deployed_at = getattr(deployment, "created_date", None) or int(time.time())
    return openapi_export.RestApiDescription(
        api_id=api.id,
        name=api.name,
        description=api.description or None,
        base_url=base_url,
        stage=stage.name,
        version=datetime.fromtimestamp(deployed_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        methods={
            resource.get_path(): {
                verb: method.to_json() for verb, method in resource.resource_methods.items()
            }
            for resource in api.resources.values()
        },
        models={model.name: model.to_json() for model in api.models.values()},
        authorizers={
            authorizer_id: authorizer.to_json()
            for authorizer_id, authorizer in api.authorizers.items()
        },
        validators={
            validator_id: validator.to_dict()
            for validator_id, validator in api.request_validators.items()
        },
    )


def _export_declared_api(original):
    def get_export(self):
        # /restapis/{api_id}/stages/{stage}/exports/{export_type}
        parts = self.path.split("?")[0].rstrip("/").split("/")
        api_id, stage_name, export_type = parts[-5], parts[-3], parts[-1]
        api = self.backend.get_rest_api(api_id)
        stage = api.stages.get(stage_name)
        if stage is None:
            raise StageNotFoundException()
        extensions = (self.querystring.get("extensions") or [None])[0]
        engine = active_engine_or_none()
        description = describe(
            api,
            stage,
            region=self.region,
            endpoint_url=engine.endpoint_url if engine is not None else None,
        )
        try:
            document = openapi_export.export(description, export_type, extensions)
        except openapi_export.ExportError as error:
            raise BadRequestException(str(error)) from None
        accepts = (self.headers.get("Accept") or "application/json").split(";")[0].strip()
        content_type = "application/yaml" if accepts == "application/yaml" else "application/json"
        prefix = "swagger" if export_type == "swagger" else "oas30"
        headers = {
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{prefix}_{description.version}.json"',
        }
        return 200, headers, json.dumps(document, indent=2).encode("utf-8")

    return get_export


HOOKS = (
    Hook(
        apigateway_responses.APIGatewayResponse,
        "get_export",
        _export_declared_api,
        why="GetExport describes the API's parameters, bodies, responses, models and security",
        parameters=("self",),
        replaces=True,
    ),
)
