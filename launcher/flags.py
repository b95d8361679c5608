"""`portico serve`'s command line: whose flag is whose, checked before anything starts.

Owns the split of the arguments into three parts:

- the launcher's own flags (LAUNCHER: where to listen, how many workers, which model, how
  to supervise the sidecar);
- the frontend's settings, one flag each from frontend.config.SETTINGS, handed to the
  frontend process as their PORTICO_ variables (a flag wins over an inherited variable);
- every other flag, which is a vLLM engine flag and goes to the sidecar untouched.

Portico's own mistakes stop here with one line and exit code 2: a flag whose feature is
not built yet (frontend.config.NOT_BUILT), an unknown `--responses-*` flag (that prefix is
Portico's), a near miss of one of Portico's flags ("did you mean"), a bad value, or a bad
PORTICO_ variable. A near miss that the sidecar's own parser knows (vLLM's `--worker-cls`
is close to `--workers`) is vLLM's: asking costs a vLLM import, in a child process, and only
then. Typos of vLLM flags are left to vLLM's parser.
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from frontend.config import (
    DEFAULTS,
    NOT_BUILT,
    SETTINGS,
    Setting,
    SettingError,
    check_together,
    from_environ,
)

from .supervisor import RestartPolicy

PROG = "portico serve"
PREFIX = "--responses-"  # Portico's namespace: such a flag is never passed to vLLM
CUTOFF = 0.8  # difflib ratio from which an unknown flag is a near miss of one of ours

LAUNCHER: tuple[Setting, ...] = (
    Setting("HOST", str, "127.0.0.1", "--host", "the address to listen on"),
    Setting("PORT", int, 8000, "--port", "the port to listen on", minimum=0),
    Setting("WORKERS", int, 1, "--workers", "Sanic worker processes", minimum=1),
    Setting("MODEL", str, None, "--model", "a model folder or name (default: embedded SmolLM2)"),
    Setting("FAKE", bool, False, "--fake", "serve the instant fake engine (tests, benchmarks)"),
    Setting(
        "RESTART_DELAY",
        float,
        1.0,
        "--sidecar-restart-delay",
        "seconds before restarting a crashed sidecar; doubles per fast crash, up to 30",
        minimum=0,
        above_minimum=True,
    ),
    Setting(
        "CRASH_WINDOW",
        float,
        60.0,
        "--sidecar-crash-window",
        "a sidecar that crashes within this many seconds of its start crashed fast",
        minimum=0,
        above_minimum=True,
    ),
    Setting(
        "MAX_CRASHES",
        int,
        5,
        "--sidecar-max-crashes",
        "fast crashes in a row after which the launcher gives up",
        minimum=1,
    ),
)

OWN: tuple[str, ...] = tuple(s.flag for s in (*LAUNCHER, *SETTINGS))


class FlagError(Exception):
    """A one-line mistake on the command line; `portico serve` exits 2 without starting."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise FlagError(message)


@dataclass
class Launch:
    host: str
    port: int
    workers: int
    model: str | None
    fake: bool
    socket: str | None  # --socket or PORTICO_SIDECAR_SOCKET; None: a fresh temporary folder
    policy: RestartPolicy
    frontend_env: dict[str, str] = field(default_factory=dict)  # PORTICO_ variables
    sidecar_args: list[str] = field(default_factory=list)  # everything else, for vLLM


def _dest(setting: Setting) -> str:
    return setting.flag.lstrip("-").replace("-", "_")


def _metavar(setting: Setting) -> str:
    if setting.type is float:
        return "SECONDS"
    if setting.type is int:
        return "BYTES" if setting.flag.endswith("-bytes") else "N"
    if setting.flag.endswith("-url"):
        return "URL"
    return "PATH" if setting.flag in ("--socket", "--model") else "TEXT"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        allow_abbrev=False,  # an abbreviation of ours could be a whole vLLM flag
        description="Serve the OpenAI Responses API: the inference sidecar and the Sanic "
        "frontend, started, supervised and stopped together.",
        epilog="Every other flag is a vLLM engine flag and goes to the sidecar "
        "(python -m inference --help)."
        + (" Not supported yet: " + ", ".join(NOT_BUILT) + "." if NOT_BUILT else ""),
    )
    groups = (
        (parser.add_argument_group("launcher"), LAUNCHER),
        (parser.add_argument_group("frontend (each also a PORTICO_ variable)"), SETTINGS),
    )
    for group, settings in groups:
        for s in settings:
            extra = f" [{s.env}]" if s in SETTINGS else ""
            if s.type is bool:
                group.add_argument(s.flag, action="store_true", dest=_dest(s), help=s.help + extra)
            else:
                # a str setting's default is the frontend's own, not the launcher's (--socket)
                shown = s.default not in (None, "") and not (s.type is str and s in SETTINGS)
                default = f" (default {s.default})" if shown else ""
                group.add_argument(
                    s.flag,
                    dest=_dest(s),
                    metavar=_metavar(s),
                    help=s.help + default + extra,
                    action="append" if s.repeatable else "store",
                )
    return parser


def parse(argv: list[str], environ: Mapping[str, str] | None = None) -> Launch:
    """The launch plan for `argv`; FlagError (one line) for a mistake that is Portico's."""
    environ = os.environ if environ is None else environ
    ns, extra = build_parser().parse_known_args(argv)
    check_unknown(extra, fake=ns.fake)
    try:
        inherited = from_environ(environ)
        values = {s.name: _value(s, getattr(ns, _dest(s))) for s in (*LAUNCHER, *SETTINGS)}
        given = {name: value for name, value in values.items() if value is not None}
        check_together({**DEFAULTS, **inherited, **given})  # as the frontend will see them
    except SettingError as exc:
        raise FlagError(str(exc)) from None
    frontend_env = {
        s.env: s.render(values[s.name])
        for s in SETTINGS
        if getattr(ns, _dest(s)) not in (None, False)
    }
    socket = values["SIDECAR_SOCKET"] or inherited.get("SIDECAR_SOCKET")
    return Launch(
        host=values["HOST"],
        port=values["PORT"],
        workers=values["WORKERS"],
        model=values["MODEL"],
        fake=values["FAKE"],
        socket=socket,
        policy=RestartPolicy(
            delay=values["RESTART_DELAY"],
            max_delay=max(30.0, values["RESTART_DELAY"]),
            window=values["CRASH_WINDOW"],
            max_crashes=values["MAX_CRASHES"],
        ),
        frontend_env=frontend_env,
        sidecar_args=extra,
    )


def _value(setting: Setting, raw: Any) -> Any:
    if raw is None or raw is False:  # not given
        return None if setting in SETTINGS else setting.default
    if setting.type is bool:
        return True
    if isinstance(raw, list):  # a repeatable flag, given once or more
        raw = ",".join(raw)
    return setting.parse(raw)


def check_unknown(extra: list[str], *, fake: bool) -> None:
    """FlagError for a flag in `extra` that is Portico's business, not vLLM's."""
    suspects: dict[str, tuple[str, str | None]] = {}  # as given -> (dashes, closest of ours)
    for token in extra:
        if not token.startswith("--") or token == "--":
            continue
        given = token.split("=", 1)[0]
        flag = given.replace("_", "-")
        if flag in NOT_BUILT:
            raise FlagError(f"{given} is not supported yet: {NOT_BUILT[flag]} is not built")
        if flag in OWN:  # --responses_ping_interval_seconds
            raise FlagError(f"unknown flag {given}; did you mean {flag}?")
        close = difflib.get_close_matches(flag, [*OWN, *NOT_BUILT], n=1, cutoff=CUTOFF)
        if flag.startswith(PREFIX) or close:
            suspects[given] = (flag, close[0] if close else None)
    if not suspects:
        return
    ask = [flag for flag, _ in suspects.values() if not flag.startswith(PREFIX)]
    vllms = sidecar_knows(ask, fake=fake)
    for given, (flag, guess) in suspects.items():
        if flag in vllms:
            continue
        if guess is None:
            raise FlagError(f"unknown flag {given} (Portico's flags: {PROG} --help)")
        if guess in NOT_BUILT:
            raise FlagError(
                f"unknown flag {given}; did you mean {guess}? (not supported yet: "
                f"{NOT_BUILT[guess]} is not built)"
            )
        raise FlagError(f"unknown flag {given}; did you mean {guess}?")


_PROBE = """
import sys
from inference.__main__ import base_parser
from inference.engine.args import build_parser
parser = build_parser(base_parser())
known = {o for a in parser._actions for o in a.option_strings}
print(" ".join(f for f in sys.argv[1:] if f in known))
"""


def sidecar_knows(flags: list[str], *, fake: bool) -> set[str]:
    """Which of `flags` the sidecar's parser accepts (vLLM's: asked in a child process)."""
    if not flags:
        return set()
    if fake:
        from inference.__main__ import base_parser

        known = {o for a in base_parser()._actions for o in a.option_strings}
        return set(flags) & (known | {"--served-model-name"})
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *flags],
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ, VLLM_LOGGING_LEVEL="ERROR"),
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return set(done.stdout.split()) if done.returncode == 0 else set()
