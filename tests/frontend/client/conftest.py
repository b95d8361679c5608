"""Fixtures for the sidecar client tests."""

from tests.inference.conftest import socket_path

__all__ = ["socket_path"]
