"""Live progress of long steps (the dump, the upload, the restore) for the operator watching them.

Progress is for the terminal only: the report keeps the final figures a step returns. Lines go to
one sink, stderr unless another is installed (the runbook plugin installs the terminal, past
pytest's capture); every line is redacted first.
"""

import sys
import threading
from typing import Callable

from .redact import redact

Sink = Callable[[str], None]


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
