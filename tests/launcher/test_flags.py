"""The command line of `portico serve`: the settings table, the split, and refused flags."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from frontend.config import DEFAULTS, NOT_BUILT, SETTINGS, PorticoConfig, SettingError
from launcher import flags
from launcher.flags import FlagError, parse
from tests.stack import ROOT

EVERY_FLAG = [
    "--socket", "/run/p.sock",
    "--sidecar-connect-timeout", "2.5",
    "--sidecar-health-interval", "1",
    "--responses-model-alias", "gpt-4o",
    "--responses-compatibility-mode",
    "--max-request-body-bytes", "1024",
    "--responses-ping-interval-seconds", "10",
    "--responses-store-max-entries", "50",
    "--responses-store-ttl-seconds=60",
    "--responses-generation-timeout", "0",
]  # fmt: skip


def test_the_table_has_one_flag_and_one_variable_per_setting() -> None:
    assert len({s.flag for s in SETTINGS}) == len({s.env for s in SETTINGS}) == len(SETTINGS)
    assert all(s.env == "PORTICO_" + s.name for s in SETTINGS)
    assert {s.name: s.default for s in SETTINGS} == DEFAULTS
    assert not {s.flag for s in SETTINGS} & set(NOT_BUILT)


def test_frontend_flags_become_portico_variables() -> None:
    launch = parse(["--fake", *EVERY_FLAG, "--max-model-len", "512"], environ={})
    assert launch.frontend_env == {
        "PORTICO_SIDECAR_SOCKET": "/run/p.sock",
        "PORTICO_SIDECAR_CONNECT_TIMEOUT": "2.5",
        "PORTICO_HEALTH_INTERVAL": "1.0",
        "PORTICO_SERVED_MODEL_NAME": "gpt-4o",
        "PORTICO_COMPATIBILITY_MODE": "true",
        "PORTICO_MAX_BODY_BYTES": "1024",
        "PORTICO_SSE_PING_INTERVAL": "10.0",
        "PORTICO_STORE_MAX_ENTRIES": "50",
        "PORTICO_STORE_TTL": "60.0",
        "PORTICO_GENERATION_TIMEOUT": "0.0",
    }
    assert launch.socket == "/run/p.sock"
    assert launch.sidecar_args == ["--max-model-len", "512"]  # only what is vLLM's


def test_the_frontend_reads_back_what_the_launcher_wrote(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in parse(EVERY_FLAG, environ={}).frontend_env.items():
        monkeypatch.setenv(name, value)
    config = PorticoConfig()
    assert config.SIDECAR_CONNECT_TIMEOUT == 2.5
    assert config.SERVED_MODEL_NAME == "gpt-4o"
    assert config.COMPATIBILITY_MODE is True
    assert config.MAX_BODY_BYTES == config.REQUEST_MAX_SIZE == 1024
    assert config.STORE_TTL == 60.0


def test_vllm_flags_and_served_model_name_go_to_the_sidecar() -> None:
    argv = ["--model", "/m", "--served-model-name", "a", "b", "--tensor-parallel-size=2"]
    launch = parse(argv, environ={})
    assert launch.model == "/m"
    assert launch.sidecar_args == ["--served-model-name", "a", "b", "--tensor-parallel-size=2"]
    assert launch.frontend_env == {}


def test_launcher_flags_and_their_defaults() -> None:
    launch = parse([], environ={})
    assert (launch.host, launch.port, launch.workers, launch.model, launch.fake) == (
        "127.0.0.1",
        8000,
        1,
        None,
        False,
    )
    assert launch.socket is None
    policy = launch.policy
    assert (policy.delay, policy.max_delay, policy.window, policy.max_crashes) == (1, 30, 60, 5)
    launch = parse(["--sidecar-restart-delay", "0.2", "--sidecar-max-crashes", "2"], environ={})
    assert (launch.policy.delay, launch.policy.max_crashes) == (0.2, 2)


def test_a_flag_wins_over_the_environment() -> None:
    environ = {"PORTICO_SIDECAR_SOCKET": "/env.sock", "PORTICO_SSE_PING_INTERVAL": "3"}
    assert parse([], environ=environ).socket == "/env.sock"
    launch = parse(["--socket", "/flag.sock", "--responses-ping-interval-seconds", "4"], environ)
    assert launch.socket == "/flag.sock"
    assert launch.frontend_env["PORTICO_SSE_PING_INTERVAL"] == "4.0"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--responses-tool-timeout", "-1"], "--responses-tool-timeout must be at least 0"),
        (
            ["--responses-stream-buffer-max-bytes=0"],
            "--responses-stream-buffer-max-bytes must be at least 1",
        ),
        (["--responses-default-service-tier", "turbo"], "expects one of auto, default"),
        (["--responses-allowed-service-tiers", "auto,turbo"], "not 'turbo'"),
        (["--responses-store-max-bytes", "0"], "--responses-store-max-bytes must be at least 1"),
        (["--responses-store-url", "http://x"], "--responses-store-url expects a URL that"),
        (["--max-stream-event-bytes", "-1"], "--max-stream-event-bytes must be at least 0"),
        (
            ["--responses-ping-intervl-seconds", "3"],
            "unknown flag --responses-ping-intervl-seconds; "
            "did you mean --responses-ping-interval-seconds?",
        ),
        (["--responses-whatever"], "unknown flag --responses-whatever"),
        (["--max-request-body-byte", "9"], "did you mean --max-request-body-bytes?"),
        (["--wokers", "2"], "did you mean --workers?"),
        (["--responses_store_ttl_seconds", "9"], "did you mean --responses-store-ttl-seconds?"),
        (["--responses-tool-timout", "5"], "did you mean --responses-tool-timeout?"),
        (
            ["--responses-ping-interval-seconds", "soon"],
            "--responses-ping-interval-seconds expects a number, not 'soon'",
        ),
        (["--responses-store-ttl-seconds", "0"], "must be greater than 0"),
        (["--responses-generation-timeout", "-1"], "must be at least 0"),
        (["--max-request-body-bytes", "1.5"], "expects a whole number, not '1.5'"),
        (["--responses-store-max-entries", "nan"], "expects a whole number"),
        (["--sidecar-health-interval", "inf"], "expects a number, not 'inf'"),
        (["--port", "http"], "--port expects a whole number"),
        (["--workers"], "expected one argument"),
    ],
)
def test_portico_mistakes_are_one_line(argv: list[str], message: str) -> None:
    with pytest.raises(FlagError) as raised:
        parse(["--fake", *argv], environ={})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_bad_variable_is_refused_by_name() -> None:
    with pytest.raises(FlagError, match="PORTICO_STORE_TTL expects a number, not 'a day'"):
        parse([], environ={"PORTICO_STORE_TTL": "a day"})


def test_the_frontend_types_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_SERVED_MODEL_NAME", "123")  # Sanic alone would make it an int
    monkeypatch.setenv("PORTICO_COMPATIBILITY_MODE", "yes")
    monkeypatch.setenv("PORTICO_GENERATION_TIMEOUT", "30")
    config = PorticoConfig()
    assert config.SERVED_MODEL_NAME == "123"
    assert config.COMPATIBILITY_MODE is True
    assert config.GENERATION_TIMEOUT == 30.0 and config.RESPONSE_TIMEOUT == 90.0
    monkeypatch.setenv("PORTICO_MAX_BODY_BYTES", "big")
    with pytest.raises(SettingError, match="PORTICO_MAX_BODY_BYTES expects a whole number"):
        PorticoConfig()


def test_a_near_miss_that_vllm_knows_is_vllms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flags, "sidecar_knows", lambda found, fake: {"--worker-cls"})
    launch = parse(["--worker-cls", "my.Worker"], environ={})
    assert launch.sidecar_args == ["--worker-cls", "my.Worker"]


def test_the_fake_sidecar_knows_its_own_flags() -> None:
    known = flags.sidecar_knows(["--served-model-name", "--fake-reasoning", "--wokers"], fake=True)
    assert known == {"--served-model-name", "--fake-reasoning"}


def _vllm_flags() -> list[str]:
    probe = (
        "from inference.__main__ import base_parser\n"
        "from inference.engine.args import build_parser\n"
        "p = build_parser(base_parser())\n"
        "print(' '.join(o for a in p._actions for o in a.option_strings if o[:2] == '--'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        pytest.skip(f"vLLM is not importable here: {done.stderr.strip()[-200:]}")
    return done.stdout.split()


def test_no_vllm_flag_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every flag of the installed vLLM's sidecar parser passes the launcher's own check."""
    vllm = set(_vllm_flags())
    assert "--worker-cls" in vllm and "--max-model-len" in vllm
    assert not {f for f in vllm if f.startswith(flags.PREFIX)}  # the prefix is Portico's
    monkeypatch.setattr(flags, "sidecar_knows", lambda found, fake: set(found) & vllm)
    mine = set(flags.OWN)
    flags.check_unknown(sorted(vllm - mine), fake=False)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vLLM is not installed")
def test_the_real_sidecar_parser_is_asked_in_a_child_process() -> None:
    assert flags.sidecar_knows(["--worker-cls", "--wokers"], fake=False) == {"--worker-cls"}


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    for s in SETTINGS:
        assert any(f"`{s.flag}`" in row and f"`{s.env}`" in row for row in rows), s.name
    for s in flags.LAUNCHER:
        assert any(f"`{s.flag}`" in row for row in rows), s.flag
    for flag in NOT_BUILT:
        assert f"`{flag}`" in section, flag


# The migration guide's quick start (shared/product/migration-guide.md, section 2), whose
# `python -m vllm.entrypoints.openai.api_server` line becomes `portico serve`.
GUIDE_QUICK_START = [
    "--model", "/models/m",
    "--responses-compatibility-mode",
    "--responses-ping-interval-seconds", "15",
    "--responses-default-service-tier", "auto",
    "--responses-allowed-service-tiers", "auto,default",
]  # fmt: skip
# Section 5's recommended flags, with a value each.
GUIDE_FLAGS = {
    "--responses-ping-interval-seconds": "15",
    "--max-request-body-bytes": "1048576",
    "--max-stream-event-bytes": "65536",
    "--responses-tool-timeout": "300",
    "--responses-stream-buffer-max-bytes": "1048576",
    "--responses-default-service-tier": "default",
    "--responses-allowed-service-tiers": "auto,default",
}


def test_the_migration_guides_quick_start_is_porticos() -> None:
    launch = parse(GUIDE_QUICK_START, environ={})
    assert launch.model == "/models/m" and launch.sidecar_args == []
    assert launch.frontend_env == {
        "PORTICO_COMPATIBILITY_MODE": "true",
        "PORTICO_SSE_PING_INTERVAL": "15.0",
        "PORTICO_DEFAULT_SERVICE_TIER": "auto",
        "PORTICO_ALLOWED_SERVICE_TIERS": "auto,default",
    }


@pytest.mark.parametrize(("flag", "value"), GUIDE_FLAGS.items())
def test_each_recommended_flag_is_porticos_and_refuses_a_bad_value(flag: str, value: str) -> None:
    launch = parse([flag, value], environ={})
    assert launch.sidecar_args == [] and len(launch.frontend_env) == 1
    with pytest.raises(FlagError) as refused:
        parse([flag, "bogus"], environ={})
    assert flag in str(refused.value) and "\n" not in str(refused.value)


def test_help_lists_every_flag_with_its_meaning() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "launcher", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    words = " ".join(shown.stdout.split())  # argparse wraps lines
    for flag in GUIDE_FLAGS:
        assert flag in words
    for s in SETTINGS:
        assert s.flag in words, s.flag
        assert " ".join(s.help.split())[:30] in words, s.flag
    for s in flags.LAUNCHER:
        assert s.flag in words, s.flag
