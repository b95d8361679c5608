"""What one setting is: its name, type, default, flag and PORTICO_ variable, and how a
value given as text is parsed and checked (Setting.parse) and written back (Setting.render).

frontend/config.py holds the table of every setting (SETTINGS) built from these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sanic.utils import str_to_bool

ENV_PREFIX = "PORTICO_"


class SettingError(ValueError):
    """A setting's value is invalid; the message is one line that names the setting."""


@dataclass(frozen=True)
class Setting:
    name: str  # the config key, e.g. SSE_PING_INTERVAL
    type: type  # str, bool, int or float
    default: Any
    flag: str  # the `portico serve` flag
    help: str  # one line: what it does (README's "meaning")
    minimum: float | None = None  # the smallest value allowed, if any
    above_minimum: bool = False  # the value must be strictly greater than `minimum`
    # a str setting's own check: ValueError whose message completes "<flag> ..." (and never
    # quotes the value: a secret's value is never repeated)
    check: Callable[[str], None] | None = None
    # the flag may be given several times (`portico serve` joins the values with commas)
    repeatable: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name

    def parse(self, text: str, source: str | None = None) -> Any:
        """The typed value of `text`, or SettingError naming `source` (default: the flag)."""
        where = source or self.flag
        if self.type is bool:
            try:
                return str_to_bool(text)
            except ValueError:
                raise SettingError(f"{where} expects true or false, not {text!r}") from None
        if self.type is str:
            if self.check is not None:
                try:
                    self.check(text)
                except ValueError as exc:
                    raise SettingError(f"{where} {exc}") from None
            return text
        what = "a whole number" if self.type is int else "a number"
        try:
            value = self.type(text)
        except ValueError:
            raise SettingError(f"{where} expects {what}, not {text!r}") from None
        if not math.isfinite(value):
            raise SettingError(f"{where} expects {what}, not {text!r}")
        if self.minimum is not None and (
            value < self.minimum or (self.above_minimum and value == self.minimum)
        ):
            bound = "greater than" if self.above_minimum else "at least"
            raise SettingError(f"{where} must be {bound} {self.minimum:g}, not {text!r}")
        return value

    def render(self, value: Any) -> str:
        """The environment-variable spelling of a parsed value."""
        if self.type is bool:
            return "true" if value else "false"
        return str(value)
