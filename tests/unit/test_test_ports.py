"""Two pytest sessions on one machine never hand the same port to their stacks."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import ports

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reserved_by_another_session(port: int) -> str:
    script = f"from testkit import ports; print(ports.reserve({port}))"
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def test_a_port_reserved_here_is_refused_to_another_session_and_to_this_one_again():
    port = _unused_port()
    assert _reserved_by_another_session(port) == "True", "free before: the other session's reservation ended with it"
    assert ports.reserve(port)
    assert _reserved_by_another_session(port) == "False"
    assert not ports.reserve(port)


def test_a_port_something_listens_on_is_not_reserved():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not ports.reserve(listener.getsockname()[1])
