"""Portico through `openai.AzureOpenAI`: Azure OpenAI's URIs, `api-version` and `api-key`.

    PORTICO_BASE_URL=http://127.0.0.1:8000/v1 python examples/azure_client.py

The Azure endpoint is the server's root (PORTICO_BASE_URL without its `/v1`); the SDK calls
`POST /openai/responses?api-version=...` with the key in an `api-key` header. A deployment
name works as `model` when the server maps it (`--azure-deployments NAME=MODEL`); a served
model's own name always does.

Environment: PORTICO_BASE_URL, PORTICO_MODEL, PORTICO_API_KEY (as in streaming.py),
PORTICO_AZURE_API_VERSION (default 2025-04-01-preview), PORTICO_PROMPT. Exits 1 when the
response is not completed or lacks Azure's `apim-request-id` header.
"""

from __future__ import annotations

import os
import sys

from openai import AzureOpenAI, OpenAI


def main() -> int:
    base_url = os.environ.get("PORTICO_BASE_URL", "http://127.0.0.1:8000/v1").rstrip("/")
    endpoint = base_url.removesuffix("/v1")
    key = os.environ.get("PORTICO_API_KEY", "unused")
    model = os.environ.get("PORTICO_MODEL") or (
        OpenAI(base_url=base_url, api_key=key).models.list().data[0].id
    )
    api = AzureOpenAI(
        azure_endpoint=endpoint,
        api_version=os.environ.get("PORTICO_AZURE_API_VERSION", "2025-04-01-preview"),
        api_key=key,
    )
    prompt = os.environ.get("PORTICO_PROMPT", "Say hello in French.")
    raw = api.responses.with_raw_response.create(model=model, input=prompt, max_output_tokens=64)
    response = raw.parse()
    for header in ("apim-request-id", "x-ms-region", "x-request-id", "openai-processing-ms"):
        print(f"{header}: {raw.headers.get(header, '(not sent)')}")
    if not raw.headers.get("apim-request-id"):
        print("no apim-request-id: is this an Azure route?", file=sys.stderr)
        return 1
    if response.status not in ("completed", "incomplete"):
        print(f"the response is {response.status}: {response.error}", file=sys.stderr)
        return 1
    print(f"answer: {response.output_text}")

    again = api.responses.retrieve(response.id)  # stored: readable under /openai and /v1
    print(f"[{again.id}: {again.status}, model {again.model}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
