"""docs/api.md and the README's documentation index keep up with the code: every setting's
flag and variable, every extension event and field, every error code of the error table,
and every docs page listed in the README."""

from __future__ import annotations

import re

import pytest

from frontend import errors, extensions
from frontend.config import SETTINGS, Setting
from tests.stack import ROOT

API = (ROOT / "docs" / "api.md").read_text()
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.flag)
def test_every_setting_is_documented_with_flag_and_variable(setting: Setting) -> None:
    flag, env = setting.flag, setting.env
    row = next((line for line in API.splitlines() if line.startswith(f"| `{flag}` |")), None)
    assert row is not None, f"docs/api.md has no settings row for {flag}"
    assert f"`{env}`" in row, f"the row of {flag} does not name {env}"


def test_every_extension_event_field_and_header_is_documented() -> None:
    for name in (*extensions.EXTENSION_EVENTS, *extensions.LEGACY_NAMES.values()):
        assert f"`{name}`" in API, name
    for name in extensions.EXTENSION_FIELDS:
        assert f"`{name}`" in API, name
    assert extensions.ALIAS_HEADER in API


def test_every_error_code_of_the_table_is_documented() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type)]
    codes = {c.code for c in classes if issubclass(c, errors.APIError) and c.code}
    assert codes, "no error codes found"
    for code in codes:
        assert f"`{code}`" in API, code


def test_every_docs_page_is_in_the_readme_index() -> None:
    index = README.split("## Documentation", 1)
    assert len(index) == 2, "README.md has no Documentation section"
    section = index[1].split("\n## ", 1)[0]
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)\)", section))
    pages = {  # docs/results/ holds raw benchmark outputs, not pages
        str(p.relative_to(ROOT))
        for p in (ROOT / "docs").rglob("*.md")
        if "results" not in p.relative_to(ROOT / "docs").parts
    }
    assert pages <= linked, f"not in README's Documentation section: {sorted(pages - linked)}"
    assert all((ROOT / page).is_file() for page in linked)
