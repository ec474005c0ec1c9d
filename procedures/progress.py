"""Live progress of long steps (the dump, the upload, the restore) for the operator watching them.

Progress is for the terminal only: the report keeps the final figures a step returns. Lines go to
one sink, stderr unless another is installed (the runbook plugin installs the terminal, past
pytest's capture); every line is redacted first.
"""

import logging
import os
import sys
import threading
from pathlib import Path
from typing import Callable

from .redact import redact

Sink = Callable[[str], None]
log = logging.getLogger("ops.runner")


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


_sink: Sink = to_stderr
_lock = threading.Lock()  # the runner calls from its stderr threads: one line at a time


def use_sink(sink: Sink) -> Sink:
    """Send every later progress line to sink; returns the sink it replaces."""
    global _sink
    with _lock:
        previous, _sink = _sink, sink
    return previous


def show(line: str) -> None:
    """Show one progress line, redacted, on the sink."""
    with _lock:
        _sink(redact(line))


def never_raising(sink: Sink) -> Sink:
    """sink, made safe for a thread that drains a command's output: a failure is logged, never raised (a
    reader that stopped would leave the command's pipe full and the command hung). The first failure is a
    warning with its traceback (a lost live line has a cause to show); the rest go to debug (a sink failing
    on each of 20000 lines must not slow the command)."""
    failed = False

    def hand(line: str) -> None:
        nonlocal failed
        try:
            sink(line)
        except Exception:
            log.log(logging.DEBUG if failed else logging.WARNING,
                    "progress sink failed; later live lines of this command may be lost", exc_info=True)
            failed = True

    return hand


UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50}


def human(size: float) -> str:
    """A byte count as rclone writes it ("21.349 MiB"), so every progress line reads alike."""
    for unit, factor in reversed(UNITS.items()):
        if size >= factor and factor > 1:
            return f"{size / factor:.3f} {unit}"
    return f"{round(size)} B"


def file_size(path: Path | None) -> Callable[[], int | None]:
    """A reader of a growing file's size by stat (no process, no read of its content): None when there is
    no such path on this host, or it cannot be seen (not yet there, no permission)."""

    def size() -> int | None:
        try:
            return os.stat(path).st_size if path is not None else None
        except OSError:
            return None

    return size
