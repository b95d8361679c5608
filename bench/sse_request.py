"""One streaming ``POST {base_url}/responses`` request: send it, parse its SSE stream, time it.

Owns the per-request measurement of the load generator: the hand-written SSE parser
(``event:`` / ``data:`` lines, ``[DONE]`` skipped, the type read from the JSON ``type`` field
when a server sends no ``event:`` lines) and the :class:`Sample` it produces: time to the first
``response.output_text.delta`` (TTFT), the gaps between consecutive deltas (ITL), time per
output token and the output token count from ``response.usage.output_tokens`` of
``response.completed`` / ``response.incomplete``. Failures (non-200 status, ``error`` /
``response.failed`` events, a stream without a final event, a timeout, any exception) become a
``Sample`` with ``ok=False`` rather than an exception.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

DELTA_EVENT = "response.output_text.delta"
FINAL_EVENTS = frozenset({"response.completed", "response.incomplete"})
ERROR_EVENTS = frozenset({"error", "response.failed"})


@dataclass(slots=True)
class Sample:
    """What one request produced, as seen by the client."""

    ok: bool
    error: str | None = None
    ttft_s: float | None = None
    e2e_s: float = 0.0
    output_tokens: int = 0
    usage_reported: bool = False
    n_deltas: int = 0
    n_events: int = 0
    itl_s: list[float] = field(default_factory=list)
    tpot_s: float | None = None


def _error_message(payload: Any) -> str:
    """Best-effort short text of an ``error`` / ``response.failed`` event payload."""
    if isinstance(payload, dict):
        err = payload.get("error")
        if err is None and isinstance(payload.get("response"), dict):
            err = payload["response"].get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or err)[:200]
        if err is not None:
            return str(err)[:200]
        if "message" in payload:
            return str(payload["message"])[:200]
    return str(payload)[:200]


async def one_request(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
) -> Sample:
    """Send one streaming request, parse its SSE stream by hand and time it."""
    delta_times: list[float] = []
    n_events = 0
    output_tokens: int | None = None
    finished = False
    error: str | None = None
    t0 = time.perf_counter()

    def dispatch(name: str, data: str, now: float) -> None:
        nonlocal n_events, output_tokens, finished, error
        if data == "[DONE]":
            return
        n_events += 1
        payload: Any = None
        if not name:  # no `event:` line: the type lives in the JSON
            try:
                payload = json.loads(data)
            except ValueError:
                return
            name = payload.get("type", "") if isinstance(payload, dict) else ""
        if name == DELTA_EVENT:
            delta_times.append(now)
            return
        if name in FINAL_EVENTS:
            finished = True
            if payload is None:
                try:
                    payload = json.loads(data)
                except ValueError:
                    payload = {}
            usage = (
                (payload.get("response") or {}).get("usage") if isinstance(payload, dict) else None
            )
            if isinstance(usage, dict) and isinstance(usage.get("output_tokens"), int):
                output_tokens = usage["output_tokens"]
        elif name in ERROR_EVENTS:
            if payload is None:
                try:
                    payload = json.loads(data)
                except ValueError:
                    payload = data
            error = f"{name}: {_error_message(payload)}"

    try:
        async with (
            asyncio.timeout(timeout_s),
            client.stream("POST", url, content=body, headers=headers) as resp,
        ):
            if resp.status_code != 200:
                text = (await resp.aread())[:200].decode("utf-8", "replace")
                return Sample(
                    ok=False,
                    error=f"HTTP {resp.status_code}: {text}",
                    e2e_s=time.perf_counter() - t0,
                )
            buf = b""
            event_name = ""
            data_lines: list[str] = []
            async for chunk in resp.aiter_bytes():
                now = time.perf_counter()
                buf += chunk
                lines = buf.split(b"\n")
                buf = lines.pop()
                for raw in lines:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    if not line:
                        if data_lines:
                            dispatch(event_name, "\n".join(data_lines), now)
                        event_name = ""
                        data_lines = []
                    elif line.startswith("data:"):
                        value = line[5:]
                        data_lines.append(value[1:] if value.startswith(" ") else value)
                    elif line.startswith("event:"):
                        value = line[6:]
                        event_name = value[1:] if value.startswith(" ") else value
                    # `id:`, `retry:` and `:` comment lines are ignored.
            end = time.perf_counter()
            if buf.strip():  # a last line without its newline
                line = buf.decode("utf-8", "replace").rstrip("\r")
                if line.startswith("data:"):
                    value = line[5:]
                    data_lines.append(value[1:] if value.startswith(" ") else value)
            if data_lines:  # a last event without its blank line
                dispatch(event_name, "\n".join(data_lines), end)
    except TimeoutError:
        return Sample(
            ok=False, error=f"timeout after {timeout_s:g}s", e2e_s=time.perf_counter() - t0
        )
    except Exception as exc:  # network errors, protocol errors, ...
        return Sample(
            ok=False,
            error=f"{type(exc).__name__}: {str(exc)[:160]}",
            e2e_s=time.perf_counter() - t0,
        )

    e2e = end - t0
    if error is None and not finished:
        error = "stream ended without response.completed"
    if error is not None:
        return Sample(ok=False, error=error, e2e_s=e2e, n_events=n_events)

    itl = [b - a for a, b in itertools.pairwise(delta_times)]
    usage_reported = output_tokens is not None
    tokens = output_tokens if output_tokens is not None else len(delta_times)
    tpot = None
    if len(delta_times) >= 2 and tokens >= 2:
        tpot = (delta_times[-1] - delta_times[0]) / (tokens - 1)
    return Sample(
        ok=True,
        ttft_s=(delta_times[0] - t0) if delta_times else None,
        e2e_s=e2e,
        output_tokens=tokens,
        usage_reported=usage_reported,
        n_deltas=len(delta_times),
        n_events=n_events,
        itl_s=itl,
        tpot_s=tpot,
    )
