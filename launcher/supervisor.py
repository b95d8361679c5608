"""Supervising the sidecar: restart it when it crashes, give up when restarting is futile.

The policy (RestartPolicy, pure):

- A sidecar that exits before the launcher has ever seen its handshake failed to start (a
  bad model path or vLLM flag, not enough memory, an unsupported model): it would fail the
  same way again, so the launcher gives up at once. The sidecar's own error is just above
  the launcher's one line.
- Once the sidecar has been ready, any exit is a crash and it is restarted, after a backoff
  that starts at `delay` (1 s) and doubles with each consecutive fast crash, up to
  `max_delay` (30 s). A fast crash is one within `window` (60 s) of that run's start; a run
  that lasted longer resets the count. A restarted sidecar that fails before its handshake
  counts as a fast crash: the model loaded once, so a retry may work (GPU memory released
  late, a flaky disk).
- After `max_crashes` (5) fast crashes in a row the launcher gives up: one line saying why,
  then it stops the frontend and exits 1.

While the sidecar is away, the frontend stays up: it answers 503 with Retry-After and
reconnects by itself when the socket answers again (frontend/client/uds.py).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from inference.protocol import Handshake

from .processes import describe_exit, say, spawn, stop
from .sidecar import handshake

PROBE_EVERY = 0.5  # seconds between handshake probes while a run is not ready yet


class Decision(NamedTuple):
    delay: float | None  # seconds until the restart; None: give up
    reason: str


@dataclass
class RestartPolicy:
    delay: float = 1.0  # the first backoff, in seconds
    max_delay: float = 30.0  # the backoff's cap
    window: float = 60.0  # a run shorter than this that ends is a fast crash
    max_crashes: int = 5  # consecutive fast crashes before giving up
    fast_crashes: int = field(default=0, init=False)

    def after_exit(self, ran_for: float, ever_ready: bool) -> Decision:
        if not ever_ready:
            return Decision(None, "it never became ready, so it is not restarted")
        if ran_for >= self.window:
            self.fast_crashes = 0
            return Decision(self.delay, f"it had run {ran_for:.0f} s")
        self.fast_crashes += 1
        if self.fast_crashes >= self.max_crashes:
            return Decision(
                None,
                f"giving up after {self.fast_crashes} crashes in a row, each within "
                f"{self.window:g} s of its start",
            )
        backoff = min(self.delay * 2 ** (self.fast_crashes - 1), self.max_delay)
        return Decision(backoff, f"fast crash {self.fast_crashes} of {self.max_crashes}")


class Supervisor:
    """The sidecar process across restarts; `poll()` advances it, from the launcher's loop."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        sock: str,
        policy: RestartPolicy,
        on_ready: Callable[[Handshake, int], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.command, self.env, self.sock = command, env, sock
        self.policy = policy
        self.on_ready = on_ready  # (handshake, restarts so far)
        self.clock = clock
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.ever_ready = False
        self._ready = False  # this run answered a handshake
        self._started_at = 0.0
        self._restart_at: float | None = None
        self._next_probe = 0.0

    def start(self) -> None:
        self.proc = spawn(self.command, self.env)
        self._started_at = self._next_probe = self.clock()
        self._ready = False

    def poll(self) -> str | None:
        """Probe, notice an exit, restart when due: None, or the one-line reason to give up."""
        now = self.clock()
        if self.proc is None:
            if self._restart_at is not None and now >= self._restart_at:
                self._restart_at = None
                self.restarts += 1
                self.start()
            return None
        code = self.proc.poll()
        if code is None:
            if not self._ready and now >= self._next_probe:
                self._next_probe = now + PROBE_EVERY
                if (hs := handshake(self.sock)) is not None:
                    self._ready = self.ever_ready = True
                    self.on_ready(hs, self.restarts)
            return None
        self.proc = None
        ran = now - self._started_at
        what = f"the sidecar {describe_exit(code)}"
        decision = self.policy.after_exit(ran, self.ever_ready)
        if decision.delay is None:
            return f"{what}; {decision.reason}"
        say(
            f"{what} after {ran:.1f} s; restarting it in {decision.delay:g} s ({decision.reason})",
            error=True,
        )
        self._restart_at = now + decision.delay
        return None

    def stop(self, grace: float) -> None:
        self._restart_at = None
        if self.proc is not None:
            stop(self.proc, grace)
