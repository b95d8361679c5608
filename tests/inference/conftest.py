"""Fixtures for the sidecar tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def socket_path() -> Iterator[Path]:
    """A socket path under /tmp: pytest's tmp_path can exceed AF_UNIX's 108-byte limit."""
    folder = tempfile.mkdtemp(prefix="portico-t-", dir="/tmp")
    yield Path(folder) / "sidecar.sock"
    shutil.rmtree(folder, ignore_errors=True)
