"""Child processes of the launcher: start one that dies with it, stop one, name an exit.

Owns the no-orphan rules: every child runs in its own session (so the terminal's Ctrl-C
reaches only the launcher, which stops the children in order) and gets SIGTERM when the
launcher dies (PR_SET_PDEATHSIG); stopping sends SIGTERM, waits, then kills the child's
whole process group.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, start_new_session=True, preexec_fn=_die_with_parent)


def stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, up to `grace` seconds to finish, then SIGKILL for it and all it spawned."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the process group outlives a dead leader
    proc.wait()


def describe_exit(code: int) -> str:
    """`exited with code 1`, or `was killed by SIGKILL` for a negative Popen returncode."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


def say(message: str, *, error: bool = False) -> None:
    """One line of the launcher's own output, prefixed `portico:`."""
    print(f"portico: {message}", file=sys.stderr if error else sys.stdout, flush=True)
