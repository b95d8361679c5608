"""middleware/keys.py: plain keys, the key file, VLLM_API_KEY, derived tenants, matching; and
how a bad key or key file stops `portico serve` and `sanic frontend.app` in one line (exit 2),
never repeating a key."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from frontend.config import BY_NAME, PorticoConfig, SettingError
from launcher.flags import FlagError, parse
from middleware import keys
from tests.stack import ROOT

SECRET = "sk-test-0123456789abcdefSECRET"


def key_file(tmp_path: Path, entries: Any) -> str:
    path = tmp_path / "keys.json"
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    return str(path)


def test_a_plain_key_gets_a_tenant_derived_from_its_digest_never_the_key() -> None:
    ring = keys.load(f" {SECRET} , other-key-42 ,", "")
    grant = ring.match(SECRET)
    assert grant is not None and len(ring) == 2
    expected = "key_" + hashlib.sha256(SECRET.encode()).hexdigest()[:16]
    assert grant.tenant == grant.name == expected
    assert SECRET not in repr(grant)
    assert grant.models is None and not grant.read_only
    assert grant.requests_per_minute is None and grant.tokens_per_minute is None
    other = ring.match("other-key-42")
    assert other is not None and other.tenant != grant.tenant
    assert ring.match("other-key-4") is None and ring.match("") is None
    assert ring.match(SECRET + " ") is None and ring.match(SECRET.upper()) is None


def test_no_key_anywhere_is_auth_off() -> None:
    ring = keys.load("", "", "")
    assert not ring and len(ring) == 0
    assert keys.ANONYMOUS.tenant == "" and keys.ANONYMOUS.models is None
    assert keys.ANONYMOUS.requests_per_minute is None


def test_vllm_api_key_is_one_more_key() -> None:
    ring = keys.load("", "", "vllm-key-for-migrants")
    assert ring and ring.match("vllm-key-for-migrants") is not None
    both = keys.load("vllm-key-for-migrants,second", "", "vllm-key-for-migrants")
    assert len(both) == 2  # the same key twice is one key


def test_the_key_file_describes_each_key(tmp_path: Path) -> None:
    path = key_file(
        tmp_path,
        [
            {
                "key": SECRET,
                "tenant": "acme",
                "name": "acme-prod",
                "models": ["m1", "m2"],
                "read_only": False,
                "requests_per_minute": 600,
                "tokens_per_minute": 100000,
            },
            {"key": "mirror-key-0001", "tenant": "acme", "read_only": True},
            {"key": "bare-key-000001"},
        ],
    )
    ring = keys.load("", path)
    acme = ring.match(SECRET)
    assert acme == keys.ApiKey(
        tenant="acme",
        name="acme-prod",
        models=frozenset({"m1", "m2"}),
        read_only=False,
        requests_per_minute=600,
        tokens_per_minute=100000,
    )
    mirror = ring.match("mirror-key-0001")
    assert mirror is not None and mirror.read_only and mirror.tenant == "acme"
    assert mirror.name == keys.derived_id("mirror-key-0001")
    bare = ring.match("bare-key-000001")
    assert bare is not None and bare.tenant == keys.derived_id("bare-key-000001")
    with pytest.raises(AttributeError):
        acme.tenant = "other"  # type: ignore[misc]


def test_a_key_in_the_file_and_given_plainly_takes_the_files_entry(tmp_path: Path) -> None:
    path = key_file(tmp_path, [{"key": SECRET, "tenant": "acme"}])
    ring = keys.load(SECRET, path, SECRET)
    assert len(ring) == 1
    grant = ring.match(SECRET)
    assert grant is not None and grant.tenant == "acme"


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ("[{", "not valid JSON"),
        ({"key": SECRET}, "expects a JSON list"),
        ([SECRET], "entry 1: expects an object"),
        ([{"tenant": "acme"}], "entry 1: 'key' must be a non-empty string"),
        ([{"key": ""}], "'key' must be a non-empty string"),
        ([{"key": SECRET + " x"}], "printable ASCII"),
        ([{"key": SECRET, "model": ["m1"]}], "unknown field 'model'"),
        ([{"key": SECRET, "models": []}], "'models' must be a non-empty list"),
        ([{"key": SECRET, "models": "m1"}], "'models' must be a non-empty list"),
        ([{"key": SECRET, "read_only": "yes"}], "'read_only' must be true or false"),
        ([{"key": SECRET, "requests_per_minute": 0}], "'requests_per_minute' must be"),
        ([{"key": SECRET, "tokens_per_minute": True}], "'tokens_per_minute' must be"),
        ([{"key": SECRET, "tokens_per_minute": 1.5}], "'tokens_per_minute' must be"),
        ([{"key": SECRET, "tenant": ""}], "'tenant' must be"),
        ([{"key": SECRET, "tenant": "a b"}], "'tenant' must be"),
        ([{"key": SECRET, "tenant": "key_0123"}], "may not start with 'key_'"),
        ([{"key": "ok-key-1"}, {"key": SECRET}, {"key": SECRET}], "entry 3: the same key"),
    ],
)
def test_a_bad_key_file_is_one_line_that_never_quotes_a_key(
    tmp_path: Path, entries: Any, says: str
) -> None:
    path = key_file(tmp_path, entries)
    with pytest.raises(SettingError) as caught:
        BY_NAME["API_KEY_FILE"].parse(path)
    message = str(caught.value)
    assert message.startswith(f"--api-key-file {path}")
    assert says in message and "\n" not in message
    assert SECRET not in message and "SECRET" not in message


def test_a_missing_key_file_names_the_variable(tmp_path: Path) -> None:
    where = BY_NAME["API_KEY_FILE"].env
    with pytest.raises(SettingError, match=f"^{where} .*cannot be read"):
        BY_NAME["API_KEY_FILE"].parse(str(tmp_path / "absent.json"), where)


def test_plain_keys_are_checked_without_being_quoted() -> None:
    with pytest.raises(SettingError) as caught:
        BY_NAME["API_KEYS"].parse(f"fine-key-1,{SECRET} tail")
    assert "key 2 of 2" in str(caught.value) and SECRET not in str(caught.value)
    assert BY_NAME["API_KEYS"].parse(" a-key , b-key ,") == " a-key , b-key ,"
    with pytest.raises(ValueError, match="VLLM_API_KEY") as vllm:
        keys.load("", "", "vllm zz-secret")
    assert "zz-secret" not in str(vllm.value)


def test_sanic_frontend_app_refuses_a_bad_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTICO_API_KEY_FILE", key_file(tmp_path, [{"key": SECRET, "x": 1}]))
    with pytest.raises(SettingError, match=r"^PORTICO_API_KEY_FILE .*unknown field 'x'"):
        PorticoConfig()


def test_portico_serve_takes_repeated_and_comma_separated_keys(tmp_path: Path) -> None:
    launch = parse(["--fake", "--api-key", "k-one", "--api-key", "k-two,k-three"], environ={})
    assert launch.frontend_env["PORTICO_API_KEYS"] == "k-one,k-two,k-three"
    assert "--api-key" not in launch.sidecar_args and "k-one" not in launch.sidecar_args
    path = key_file(tmp_path, [{"key": SECRET}])
    launch = parse(["--fake", "--api-key-file", path, "--auth-protect-ops"], environ={})
    assert launch.frontend_env["PORTICO_API_KEY_FILE"] == path
    assert launch.frontend_env["PORTICO_AUTH_PROTECT_OPS"] == "true"
    with pytest.raises(FlagError, match=r"^PORTICO_API_KEY_FILE"):
        parse(["--fake"], environ={"PORTICO_API_KEY_FILE": str(tmp_path / "absent")})


def test_portico_serve_exits_2_on_a_bad_key_file(tmp_path: Path) -> None:
    path = key_file(tmp_path, f'[{{"key": "{SECRET}", "read_only": 1}}]')
    done = subprocess.run(
        [sys.executable, "-m", "launcher", "--fake", "--api-key-file", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "'read_only' must be true or false" in lines[0]
    assert SECRET not in done.stderr + done.stdout


def test_matching_compares_every_stored_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    ring = keys.load(",".join(f"key-number-{n}" for n in range(5)), "")
    calls: list[bytes] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append(b)
        return real(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", counting)
    assert ring.match("key-number-0") is not None  # the first matches: no early exit
    assert len(calls) == 5 and len(set(calls)) == 5
    calls.clear()
    assert ring.match("key-number-9") is None
    assert len(calls) == 5


def test_masking_shows_little_of_a_presented_key() -> None:
    from middleware.auth import masked

    assert masked("sk-abcdefghijklmnopyz") == "sk-ab***yz"
    assert masked("short-key") == "***"
    assert masked("sk-abcdefghijklmnop\u00e9yz") == "***"
    assert len(masked("x" * 100_000)) == 10
