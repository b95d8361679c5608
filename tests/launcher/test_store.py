"""launcher/store.py: `portico serve --workers 2` with no store URL starts its own
redis-server, the workers share it, and it is gone when the launcher stops."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from launcher import store
from tests import spec
from tests.stack import Stack

MODEL = "fake-model"


def test_only_several_workers_without_a_url_want_a_local_redis() -> None:
    assert store.wanted(2, {})
    assert not store.wanted(1, {})
    assert not store.wanted(4, {store.URL_ENV: "redis://redis:6379/0"})


def test_the_local_redis_listens_on_its_socket_only_and_keeps_nothing() -> None:
    cmd = store.command("redis-server", Path("/tmp/x/redis.sock"), max_bytes=100 << 20)
    flags = dict(zip(cmd[1::2], cmd[2::2], strict=True))
    assert flags["--port"] == "0" and flags["--unixsocket"] == "/tmp/x/redis.sock"
    assert (flags["--save"], flags["--appendonly"]) == ("", "no")
    assert int(flags["--maxmemory"]) == 200 * 2**20 + 64 * 2**20
    assert flags["--maxmemory-policy"] == "volatile-lru"


def test_without_redis_server_it_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.shutil, "which", lambda name: None)
    with pytest.raises(store.StoreMissing, match=r"scripts/install\.sh"):
        store.start(tmp_path, {})


def redis_children(pid: int) -> list[int]:
    """The redis-server processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if name.startswith("redis-server") and int(rest.split()[1]) == pid:
            found.append(int(entry.name))
    return found


def test_two_workers_share_the_launchers_own_redis() -> None:
    stack = Stack("--fake", workers=2)
    stack.env.pop(store.URL_ENV, None)
    stack.start()
    try:
        assert stack.proc is not None
        assert "the 2 workers share a local redis-server" in stack.log()
        [redis_pid] = redis_children(stack.proc.pid)
        previous = None
        for turn in range(6):
            with httpx.Client(timeout=30) as fresh:  # any worker may take each one
                body = {"model": MODEL, "input": f"turn {turn}", "previous_response_id": previous}
                reply = fresh.post(stack.url("/v1/responses"), json=body)
            assert reply.status_code == 200, reply.text
            spec.validate_response(reply.json())
            previous = reply.json()["id"]
            with httpx.Client(timeout=30) as fresh:
                assert fresh.get(stack.url(f"/v1/responses/{previous}")).status_code == 200
    finally:
        assert stack.stop() == 0
    assert not os.path.exists(f"/proc/{redis_pid}")
