"""Ports of test stacks, reserved across every pytest session on this machine.

A port found free is not yet taken: a stack binds it only when its proxy starts, a minute later on
a busy machine. Two sessions (two engineers, a bench beside a suite) that walk the same range would
pick the same port and one stack would fail to start ("port is already allocated"). A reservation
is an flock on a file named for the port, held until this process exits (the kernel drops it even
when the process is killed), so no other session picks the port while this one may still bind it.
"""

import fcntl
import os
import socket
import tempfile
from pathlib import Path

RESERVATIONS = Path(tempfile.gettempdir()) / "opsuite-test-ports"
_held: dict[int, int] = {}  # port -> descriptor holding its flock for this process's life


def reserve(port: int) -> bool:
    """Take the port for this process unless another process holds it or something listens on it."""
    if port in _held:
        return False  # already handed out by this process
    RESERVATIONS.mkdir(exist_ok=True)
    fd = os.open(RESERVATIONS / str(port), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    if not _bindable(port):
        os.close(fd)
        return False
    _held[port] = fd
    return True


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
