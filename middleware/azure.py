"""Azure OpenAI's dialect on the `/openai/...` routes (frontend/routes/azure.py).

On a request to an Azure route (`route.ctx.azure`): check its `api-version` against
AZURE_API_VERSIONS (Azure's 400 when it is missing where needed, or unknown), then turn a
deployment into its model (AZURE_DEPLOYMENTS): the `{deployment}` of a deployment route
picks the model of the request (Azure's 404 DeploymentNotFound for an unknown one) and
becomes the body's `model`; elsewhere a deployment name given as `model` is mapped.

On every response under `/openai/` (errors and SSE included): Azure's headers,
`apim-request-id` (a fresh uuid), `x-ms-region` (AZURE_REGION, when set), the caller's
`x-ms-client-request-id` echoed, and `retry-after-ms` beside a `Retry-After` in seconds.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from frontend import azure
from frontend.context import of

PREFIX = "/openai"
CLIENT_REQUEST_ID = "x-ms-client-request-id"
_SAFE = re.compile(r"^[A-Za-z0-9._:{}-]{1,128}$")
_SECONDS = re.compile(r"^\d+(\.\d+)?$")


def _is_azure_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _json_body(request: Request) -> dict[str, Any] | None:
    """The JSON object of a POST (malformed JSON raises as the handler would: a 400)."""
    if request.method != "POST" or not request.body:
        return None
    body = request.json
    return body if isinstance(body, dict) else None


def _deployments(request: Request) -> Mapping[str, str]:
    return azure.parse_deployments(request.app.config.AZURE_DEPLOYMENTS)


def register(app: Sanic) -> None:
    async def azure_request(request: Request) -> None:
        route = request.route
        dialect = getattr(route.ctx, "azure", None) if route is not None else None
        if dialect is None:
            return
        accepted = azure.parse_versions(request.app.config.AZURE_API_VERSIONS)
        given = request.args.getlist(azure.QUERY, [])
        azure.check_api_version(given[-1] if given else None, accepted, dialect)
        deployments = _deployments(request)
        deployment = request.match_info.get("deployment")
        if deployment is not None:
            model = azure.deployment_model(deployments, of(request).model_names, deployment)
            body = _json_body(request)
            if body is not None:
                body["model"] = model  # the deployment decides, as at Azure
            return
        body = _json_body(request)
        if body is not None and isinstance(body.get("model"), str):
            body["model"] = azure.body_model(deployments, body["model"])

    async def azure_headers(request: Request, response: BaseHTTPResponse) -> None:
        if not _is_azure_path(request.path):
            return
        headers = response.headers
        headers["apim-request-id"] = str(uuid.uuid4())
        region = request.app.config.AZURE_REGION
        if region:
            headers["x-ms-region"] = region
        client_id = request.headers.get(CLIENT_REQUEST_ID, "")
        if _SAFE.match(client_id):
            headers[CLIENT_REQUEST_ID] = client_id
        retry_after = str(headers.get("Retry-After", "")).strip()
        if _SECONDS.match(retry_after) and "retry-after-ms" not in headers:
            headers["retry-after-ms"] = str(round(float(retry_after) * 1000))

    app.register_middleware(azure_request, "request", priority=82)
    app.register_middleware(azure_headers, "response", priority=95)
