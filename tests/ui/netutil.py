"""Ports for the servers the browser tests start (shared by tests/ui/conftest.py and the test modules)."""

from __future__ import annotations

import socket
import time


def free_port(host: str = "localhost") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0, host: str = "localhost") -> None:
    """Return once something listens on ``port``; raise after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"no server opened port {port} within {timeout:.0f} s")
