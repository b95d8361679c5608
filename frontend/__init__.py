"""Portico's Sanic frontend. `sanic frontend.app` serves it; configuration comes from PORTICO_*.

The app is built on first access of `frontend.app`, so importing submodules has no side effect.
A bad PORTICO_ variable stops the process there with one line naming it and exit code 2, as
`portico serve` does for its flags (Sanic's CLI would print a traceback and exit 0).
"""

from __future__ import annotations

import sys
from typing import Any

_app: Any = None


def __getattr__(name: str) -> Any:
    global _app
    if name == "app":
        if _app is None:
            from .application import create_app
            from .setting import SettingError

            try:
                _app = create_app()
            except SettingError as exc:
                print(f"portico: {exc}", file=sys.stderr, flush=True)
                raise SystemExit(2) from None
        return _app
    raise AttributeError(name)
