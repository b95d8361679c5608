"""Portico's Sanic frontend. `sanic frontend.app` serves it; configuration comes from PORTICO_*.

The app is built on first access of `frontend.app`, so importing submodules has no side effect.
"""

from __future__ import annotations

from typing import Any

_app: Any = None


def __getattr__(name: str) -> Any:
    global _app
    if name == "app":
        if _app is None:
            from .application import create_app

            _app = create_app()
        return _app
    raise AttributeError(name)
