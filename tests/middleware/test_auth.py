"""middleware/auth.py on a real stack: API keys from PORTICO_API_KEYS, VLLM_API_KEY and a key
file; OpenAI's 401 and 403 through the openai SDK; hostile headers over raw sockets; allowed
models; read-only keys; the ops routes; tenants kept apart on the memory store and on Redis
across two frontends; and no key ever in a log, a metric or a message in full."""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests import spec
from tests.pods import call, two_pods
from tests.redis_server import RedisServer
from tests.stack import Stack

MODEL = "fake-model"
ALIAS = "alias-model"  # --responses-model-alias: a second served name
PLAIN = "sk-plain-key-0001-abcdefghijklmnop"  # PORTICO_API_KEYS
OTHER = "sk-other-key-0002-abcdefghijklmnop"  # PORTICO_API_KEYS: another tenant
VLLM = "sk-vllm-key-0003-abcdefghijklmnop"  # VLLM_API_KEY
ACME = "sk-acme-key-0004-abcdefghijklmnop"  # key file: tenant acme
MIRROR = "sk-mirror-key-0005-abcdefghijklmn"  # key file: tenant acme, read-only
ALIASED = "sk-alias-only-0006-abcdefghijklmn"  # key file: models [ALIAS]
WRONG = "sk-wrong-key-0009-abcdefghijklmnop"
ALL_KEYS = (PLAIN, OTHER, VLLM, ACME, MIRROR, ALIASED, WRONG)
FILE = [
    {"key": ACME, "tenant": "acme", "requests_per_minute": 600},
    {"key": MIRROR, "tenant": "acme", "read_only": True},
    {"key": ALIASED, "tenant": "aliased", "models": [ALIAS]},
]


def keys_env(protect_ops: bool = False) -> dict[str, str]:
    path = Path(tempfile.mkdtemp(prefix="portico-keys-")) / "keys.json"
    path.write_text(json.dumps(FILE))
    env = {
        "PORTICO_API_KEYS": f"{PLAIN},{OTHER}",
        "VLLM_API_KEY": VLLM,
        "PORTICO_API_KEY_FILE": str(path),
        "PORTICO_LOG_LEVEL": "DEBUG",  # the most it writes: still no key
    }
    if protect_ops:
        env["PORTICO_AUTH_PROTECT_OPS"] = "true"
    return env


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack("--fake", "--responses-model-alias", ALIAS, env=keys_env()).start()
    yield running
    running.stop()


def client(stack: Stack, key: str) -> OpenAI:
    return OpenAI(base_url=stack.url("/v1"), api_key=key, max_retries=0)


def raw(stack: Stack, head: bytes) -> tuple[int, dict[str, Any], bytes]:
    """Send `head` (a request without a body) as bytes; the status, headers and body."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=30) as conn:
        conn.sendall(head)
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            top, _, rest = data.partition(b"\r\n\r\n")
            length = [
                int(line.split(b":", 1)[1])
                for line in top.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if length and len(rest) >= length[0]:
                break
    top, _, body = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def get_models(stack: Stack, *header_lines: bytes) -> tuple[int, dict[str, Any], bytes]:
    head = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    return raw(stack, head + b"".join(h + b"\r\n" for h in header_lines) + b"\r\n")


def assert_401(body: Any, *, missing: bool = False) -> None:
    spec.validate_error(body)
    error = body["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_api_key"
    assert error["param"] is None
    if missing:
        assert error["message"].startswith("You didn't provide an API key.")
    text = json.dumps(body)
    for key in ALL_KEYS:
        assert key not in text


# -- the SDK ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [PLAIN, OTHER, VLLM, ACME])
def test_each_configured_key_works_with_the_sdk(stack: Stack, key: str) -> None:
    response = client(stack, key).responses.create(model=MODEL, input="hi")
    assert response.status == "completed"


def test_a_wrong_key_is_openais_401_with_the_key_masked(stack: Stack) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client(stack, WRONG).responses.create(model=MODEL, input="hi")
    assert caught.value.status_code == 401
    body = caught.value.response.json()
    assert_401(body)
    assert body["error"]["message"].startswith("Incorrect API key provided: sk-wr***op.")
    assert caught.value.code == "invalid_api_key"
    assert caught.value.response.headers.get("x-request-id")  # the stack answered it whole


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/models"),
        ("POST", "/v1/responses"),
        ("GET", "/v1/responses/resp_abc"),
        ("DELETE", "/v1/responses/resp_abc"),
        ("POST", "/v1/responses/resp_abc/cancel"),
        ("POST", "/v1/responses/input_tokens"),
        ("GET", "/v1/nowhere"),
        ("POST", "/openai/v1/responses?api-version=preview"),
        ("POST", "/openai/deployments/d/responses?api-version=2025-04-01-preview"),
    ],
)
def test_every_api_path_needs_a_key(stack: Stack, method: str, path: str) -> None:
    answer = httpx.request(method, stack.url(path), json={"model": MODEL, "input": "x"})
    assert answer.status_code == 401, answer.text
    assert_401(answer.json(), missing=True)


def test_azures_api_key_header_is_a_key_too(stack: Stack) -> None:
    answer = httpx.get(stack.url("/v1/models"), headers={"api-key": ACME})
    assert answer.status_code == 200, answer.text
    wrong = httpx.get(stack.url("/v1/models"), headers={"api-key": WRONG})
    assert wrong.status_code == 401
    assert_401(wrong.json())
    # Authorization wins when both come: a wrong bearer is not rescued by a good api-key
    both = httpx.get(
        stack.url("/v1/models"), headers={"api-key": ACME, "Authorization": f"Bearer {WRONG}"}
    )
    assert both.status_code == 401


def test_azure_openai_sdk_sends_api_key(stack: Stack) -> None:
    azure = openai.AzureOpenAI(
        azure_endpoint=stack.base_url, api_key=WRONG, api_version="preview", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        azure.models.list()


# -- hostile headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lines",
    [
        [b"Authorization: Basic " + b"dXNlcjpwYXNz"],
        [b"Authorization: Token " + PLAIN.encode()],
        [b"Authorization: " + PLAIN.encode()],
        [b"Authorization: Bearer"],
        [b"Authorization: Bearer    "],
        [b"Authorization: Bearer " + PLAIN.encode() + b" extra"],
        [b"Authorization: Bearer " + PLAIN.encode(), b"Authorization: Bearer " + PLAIN.encode()],
        [b"Authorization: Bearer " + PLAIN.encode(), b"Authorization: Bearer " + WRONG.encode()],
        [b"api-key: " + ACME.encode(), b"api-key: " + ACME.encode()],
        [b"Authorization: Bearer sk-\xff\xfe\xc3\xa9\x00key"],
        [b"Authorization: Bearer sk-" + "ключ-é-🔑".encode()],
        [b"Authorization: Bearer " + b"A" * 6000],
        [b"api-key: " + b"\xe2\x80\x8b" + ACME.encode()],
    ],
)
def test_hostile_headers_are_clean_401s(stack: Stack, lines: list[bytes]) -> None:
    status, headers, body = get_models(stack, *lines)
    assert status == 401, body
    assert headers["content-type"].startswith("application/json")
    assert_401(json.loads(body))


def test_a_header_over_sanics_cap_is_a_clean_4xx(stack: Stack) -> None:
    status, _, body = get_models(stack, b"Authorization: Bearer " + b"A" * 200_000)
    assert 400 <= status < 500, body
    assert b"A" * 100 not in body


def test_the_scheme_is_case_insensitive_as_at_openai(stack: Stack) -> None:
    for scheme in (b"bearer", b"BEARER", b"Bearer"):
        status, _, body = get_models(stack, b"Authorization: " + scheme + b" " + PLAIN.encode())
        assert status == 200, body


# -- models ----------------------------------------------------------------------------------


def test_a_key_with_models_sees_and_uses_only_those(stack: Stack) -> None:
    limited = client(stack, ALIASED)
    assert [m.id for m in limited.models.list()] == [ALIAS]
    assert {m.id for m in client(stack, PLAIN).models.list()} == {MODEL, ALIAS}
    assert limited.models.retrieve(ALIAS).id == ALIAS
    with pytest.raises(openai.NotFoundError) as caught:
        limited.models.retrieve(MODEL)
    assert caught.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError) as created:
        limited.responses.create(model=MODEL, input="hi")
    body = created.value.response.json()
    spec.validate_error(body)
    assert body["error"]["code"] == "model_not_found" and body["error"]["param"] == "model"
    assert body["error"]["message"] == (
        f"The model '{MODEL}' does not exist or you do not have access to it."
    )
    assert limited.responses.create(model=ALIAS, input="hi").model == ALIAS
    counted = limited.responses.input_tokens.count(input="hi")  # no model: its first one
    assert counted.input_tokens > 0
    with pytest.raises(openai.NotFoundError):
        limited.responses.input_tokens.count(model=MODEL, input="hi")


# -- read-only keys --------------------------------------------------------------------------


def test_a_read_only_key_reads_its_tenants_responses_and_writes_nothing(stack: Stack) -> None:
    stored = client(stack, ACME).responses.create(model=MODEL, input="hi")
    mirror = client(stack, MIRROR)
    assert mirror.responses.retrieve(stored.id).id == stored.id  # same tenant: acme
    assert [m.id for m in mirror.models.list()]
    assert mirror.responses.input_tokens.count(model=MODEL, input="hi").input_tokens > 0
    for write in (
        lambda: mirror.responses.create(model=MODEL, input="hi"),
        lambda: mirror.responses.delete(stored.id),
        lambda: mirror.responses.cancel(stored.id),
    ):
        with pytest.raises(openai.PermissionDeniedError) as caught:
            write()
        assert caught.value.status_code == 403
        body = caught.value.response.json()
        spec.validate_error(body)
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["code"] == "insufficient_permissions"
        assert "insufficient permissions" in body["error"]["message"]
    assert client(stack, ACME).responses.retrieve(stored.id).id == stored.id  # not deleted


# -- tenants ---------------------------------------------------------------------------------


def check_isolation(owner: Stack, intruder: Stack, get: Any = None) -> None:
    """PLAIN stores a background response on `owner`; OTHER (another tenant) sees nothing of
    it on `intruder`, whichever verb it tries, while PLAIN still does."""
    created = client(owner, PLAIN).responses.create(
        model=MODEL, input="hi fake:delay=0.2", background=True
    )
    rid = created.id
    theirs = client(intruder, OTHER)
    for attempt in (
        lambda: theirs.responses.retrieve(rid),
        lambda: theirs.responses.input_items.list(rid),
        lambda: theirs.responses.cancel(rid),
        lambda: theirs.responses.delete(rid),
        lambda: theirs.responses.retrieve(rid, stream=True).close(),
    ):
        with pytest.raises(openai.NotFoundError):
            attempt()
    with pytest.raises(openai.NotFoundError) as chained:
        theirs.responses.create(model=MODEL, input="and?", previous_response_id=rid)
    assert chained.value.response.json()["error"]["param"] == "previous_response_id"
    mine = client(intruder, PLAIN)
    assert mine.responses.retrieve(rid).id == rid
    assert [i.type for i in mine.responses.input_items.list(rid).data] == ["message"]
    follow = mine.responses.create(model=MODEL, input="and?", previous_response_id=rid)
    assert follow.status == "completed"
    mine.responses.delete(rid)


def test_tenants_are_kept_apart_on_the_memory_store(stack: Stack) -> None:
    check_isolation(stack, stack)


@pytest.fixture(scope="module")
def pods(redis_server: RedisServer) -> Iterator[tuple[Stack, Stack]]:
    yield from two_pods(redis_server, env=keys_env())


def test_tenants_are_kept_apart_on_redis_across_frontends(pods: tuple[Stack, Stack]) -> None:
    first, second = pods
    check_isolation(first, second)
    check_isolation(second, first)
    answer = call("GET", first.url("/v1/models"), headers={"Authorization": f"Bearer {WRONG}"})
    assert answer.status_code == 401


# -- ops routes and secrecy ------------------------------------------------------------------


def test_ops_routes_are_open_by_default(stack: Stack) -> None:
    for path in ("/health", "/readyz", "/livez", "/metrics"):
        assert httpx.get(stack.url(path)).status_code == 200, path
    assert httpx.options(stack.url("/v1/responses")).status_code != 401  # CORS preflight


def test_protect_ops_keeps_the_kubelet_probes_open() -> None:
    protected = Stack("--fake", env=keys_env(protect_ops=True)).start()
    try:
        for path in ("/health", "/metrics"):
            answer = httpx.get(protected.url(path))
            assert answer.status_code == 401, path
            assert_401(answer.json(), missing=True)
            keyed = httpx.get(protected.url(path), headers={"Authorization": f"Bearer {MIRROR}"})
            assert keyed.status_code == 200, path
        for path in ("/readyz", "/livez"):
            assert httpx.get(protected.url(path)).status_code == 200, path
    finally:
        protected.stop()


def test_no_key_in_logs_or_metrics(stack: Stack) -> None:
    for key in ALL_KEYS:
        httpx.get(stack.url("/v1/models"), headers={"Authorization": f"Bearer {key}"})
        httpx.post(
            stack.url("/v1/responses"),
            headers={"api-key": key},
            json={"model": MODEL, "input": "hi"},
        )
    metrics = httpx.get(stack.url("/metrics")).text
    assert 'status="401"' in metrics  # the refusals were counted, by route and status
    log = stack.log_path.read_text(errors="replace")
    assert log.strip()  # the stack's whole output: launcher, sidecar, every worker
    for key in ALL_KEYS:
        assert key not in log, "a key in the log"
        assert key not in metrics, "a key in /metrics"
        assert key[:-2] not in log
