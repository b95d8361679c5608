"""Schemathesis fuzzing of the Responses routes: bad input is never a 5xx.

Against a running Portico with the fake sidecar (`fake_stack`), schemathesis generates
requests for the Responses operations Portico serves (`POST /responses`, `GET` and
`DELETE /responses/{response_id}`, `GET …/input_items`, `POST …/cancel`; not
`input_tokens`, whose body is create's and is parsed the same way) from OpenAI's OpenAPI
document, in three phases: the document's examples, the coverage phase (deterministic: each
property at its boundaries, of each wrong type, missing, plus unexpected HTTP methods) and
random fuzzing, with cases that follow the schema (positive) and cases that break it
(negative). Every answer must be below 500; a 200 must be a valid Response (or a valid event
stream, a deletion, an item list); any other status must be OpenAI's error envelope.

The document is cut down to those operations and the components they reference (loading
all 3 MB of it into schemathesis is slow), and tuned so that cases get past the first check
to the code behind it:

* `model` is required, and is the one model the fake sidecar serves (any other name is a
  404 before the rest of the body is looked at);
* `CreateResponse`'s `allOf` is flattened into one object without additional properties,
  so positive cases carry only the spec's fields (Portico refuses unknown ones) and negative
  cases add unknown ones;
* top-level fields that Portico refuses whatever their value (LEFT_OUT) are left out: the
  coverage phase puts every field into its base object, so one of them would turn every
  coverage case into the same 400 (their refusal is tested in test_errors.py);
* of the unions of input items and tools, the variants Portico serves are kept, and one
  hosted variant of each (KEPT_VARIANTS): the others take the same path (the catch-all item
  or tool, refused by translate), and would cost the coverage phase ~6,500 more requests;
* the `response_id` examples are stored responses, so GET, DELETE and input_items reach a
  200 too.

Runs are reproducible (`derandomize`, no example database) and do not shrink failures
(they are reported as generated). A run makes about 2,900 requests (about 1,850 from the
coverage phase, 1,000 random), in 30 to 40 s on two idle cores (about 2 minutes on two
shared, busy ones); `test_the_fuzzer_ran_enough_cases` counts them (at least MIN_CASES) and
prints the count by operation and status. The stack runs in native mode, so streams carry
Portico's extension events too (checked by tests/spec/extension_events.py, OpenAI's events
by both specs).

A longer run: `PORTICO_FUZZ_CASES=20000 pytest tests/frontend/test_fuzz.py -s` scales the
random phase so the run makes at least that many requests (and asserts it); its last result
is in docs/compatibility.md ("Fuzzing").
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, settings

from tests import spec
from tests.stack import Stack

MODEL = "fake-model"
OPERATIONS = {
    "/responses": ("post",),
    "/responses/{response_id}": ("get", "delete"),
    "/responses/{response_id}/input_items": ("get",),
    "/responses/{response_id}/cancel": ("post",),
}
LEFT_OUT = ("moderation", "prompt_cache_options", "context_management", "prompt")
# The variants kept of the spec's unions (by component name): what Portico serves, and one
# hosted variant (WebSearch...) standing for the others.
KEPT_VARIANTS = {
    "InputItem": ("EasyInputMessage", "Item", "ItemReferenceParam"),
    "Item": (
        "InputMessage",
        "OutputMessage",
        "FunctionToolCall",
        "FunctionCallOutputItemParam",
        "ReasoningItem",
        "WebSearchToolCall",
    ),
    "Tool": ("FunctionTool", "WebSearchTool"),
}
# Random cases per operation, after the examples and coverage phases (~1,850 cases); a longer
# run (PORTICO_FUZZ_CASES) scales them up to reach its count.
COVERAGE_CASES, RANDOM_CASES = 1850, 400 + 4 * 150
MIN_CASES = max(2000, int(os.environ.get("PORTICO_FUZZ_CASES") or 0))  # per run, all together
SCALE = max(1.0, (MIN_CASES - COVERAGE_CASES) / RANDOM_CASES * 1.1)
FUZZ_EXAMPLES = {"POST /responses": int(400 * SCALE)}
DEFAULT_FUZZ_EXAMPLES = int(150 * SCALE)
CONFIG = {
    "generation": {"mode": "all", "max-examples": DEFAULT_FUZZ_EXAMPLES},  # positive and negative
    "operations": [
        {"include-name": name, "generation": {"max-examples": count}}
        for name, count in FUZZ_EXAMPLES.items()
    ],
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "max-stream-events": 100_000,  # read whole SSE streams
    "warnings": False,
}

CASES: Counter[str] = Counter()  # cases sent this run, by operation
STATUSES: Counter[int] = Counter()  # answers this run, by HTTP status


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _object_parts(schemas: dict[str, Any], node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "$ref" in node:
        node = schemas[node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node:
        for part in node["allOf"]:
            yield from _object_parts(schemas, part)
    else:
        yield node


@cache
def _document() -> dict[str, Any]:
    """The Responses operations of OpenAI's document, tuned as the module docstring says."""
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (spec.spec_dir() / spec.OPENAPI_FILE).open("rb") as fh:
        full = yaml.load(fh, Loader=loader)
    paths = {
        path: {m: full["paths"][path][m] for m in methods} for path, methods in OPERATIONS.items()
    }
    for union, kept in KEPT_VARIANTS.items():
        node = full["components"]["schemas"][union]
        node["oneOf"] = [v for v in node["oneOf"] if v["$ref"].rsplit("/", 1)[1] in kept]
        assert len(node["oneOf"]) == len(kept), union
    components: dict[str, dict[str, Any]] = {}
    todo: set[str] = set()
    _refs(paths, todo)
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        seen.add(ref)
        _, _, kind, name = ref.split("/")
        node = full["components"][kind][name]
        components.setdefault(kind, {})[name] = node
        found: set[str] = set()
        _refs(node, found)
        todo |= found - seen

    schemas = components["schemas"]
    properties: dict[str, Any] = {}
    for part in _object_parts(schemas, schemas["CreateResponse"]):
        for name, sub in part.get("properties", {}).items():
            properties[name] = {"allOf": [properties[name], sub]} if name in properties else sub
    for name in LEFT_OUT:
        properties.pop(name, None)
    properties["model"] = {"type": "string", "enum": [MODEL]}
    schemas["CreateResponse"] = {
        "type": "object",
        "properties": properties,
        "required": ["model"],
        "additionalProperties": False,
    }
    return {
        "openapi": full["openapi"],
        "info": full["info"],
        "servers": [{"url": "/v1"}],
        "paths": paths,
        "components": components,
    }


def _stored_response(stack: Stack) -> str:
    reply = httpx.post(stack.url("/v1/responses"), json={"model": MODEL, "input": "hi"}, timeout=30)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


@pytest.fixture(scope="module")
def fuzz_schema(fake_stack: Stack) -> schemathesis.BaseSchema:
    doc = copy.deepcopy(_document())
    for path, operations in doc["paths"].items():
        if "{response_id}" not in path:
            continue
        for operation in operations.values():
            stored = _stored_response(fake_stack)  # one each (DELETE removes its own)
            for parameter in operation["parameters"]:
                if parameter["name"] == "response_id":
                    parameter["schema"]["example"] = stored
    return schemathesis.openapi.from_dict(doc, config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _header(response: schemathesis.Response, name: str) -> str:
    for key, values in response.headers.items():
        if key.lower() == name:
            return ", ".join(values)
    return ""


def _events(body: bytes) -> list[dict[str, Any]]:
    events = []
    for line in body.decode().splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            events.append(json.loads(line[len("data: ") :]))
    return events


def check_answer(case: schemathesis.Case, response: schemathesis.Response) -> None:
    """Below 500; a 200 is a valid Response, stream, deletion or item list; else OpenAI's
    error."""
    where = f"{case.method.upper()} {case.formatted_path} answered {response.status_code}"
    detail = f"{where}:\n{response.content[:3000]!r}\nrequest body: {str(case.body)[:3000]}"
    assert response.status_code < 500, detail
    if response.status_code != 200:
        spec.validate_error(json.loads(response.content))
        return
    if "text/event-stream" in _header(response, "content-type"):
        events = _events(response.content)
        for event in events:
            spec.validate_stream_event(event)
        spec.validate_event_sequence(events)
    elif case.formatted_path.endswith("/input_items"):
        spec.validate(json.loads(response.content), "ResponseItemList")
    elif case.method.upper() == "DELETE":
        body = json.loads(response.content)
        assert body == {
            "id": case.path_parameters["response_id"],
            "object": "response",
            "deleted": True,
        }
    else:
        spec.validate_response(json.loads(response.content))


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4's lazy schemas rename the test item through `_nodeid`, which pytest 9.2
    no longer has (it keeps `_id`): give it one, so the item keeps its id."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_bad_input_is_never_a_5xx(
    case: schemathesis.Case, fake_stack: Stack, http: requests.Session
) -> None:
    response = case.call(base_url=fake_stack.url("/v1"), session=http, timeout=60)
    CASES[case.operation.label] += 1
    STATUSES[response.status_code] += 1
    check_answer(case, response)


def test_the_fuzzer_ran_enough_cases() -> None:
    if not CASES:
        pytest.skip("the fuzz test did not run")
    total = sum(CASES.values())
    print(f"\nfuzzing: {total} cases, by operation {dict(CASES)}, by status {dict(STATUSES)}")
    assert total >= MIN_CASES, dict(CASES)
    assert not [status for status in STATUSES if status >= 500], dict(STATUSES)
