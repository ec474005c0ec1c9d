"""Progress lines on stderr (stdout carries only the results table)."""

import sys
import time

_STARTED = time.monotonic()


def say(section: str, message: str) -> None:
    minutes, seconds = divmod(int(time.monotonic() - _STARTED), 60)
    print(f"[{minutes:3d}:{seconds:02d}] {section}: {message}", file=sys.stderr, flush=True)
