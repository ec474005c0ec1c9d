"""The operations lock: one deploy or backup at a time per stack, a directory made atomically.

The holder (who, where, what, since) is written inside, so a refusal can say who holds it.
"""

import contextlib
import getpass
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .errors import LockHeld


@dataclass(frozen=True)
class Holder:
    action: str
    user: str
    host: str
    pid: int
    since: str

    def alive(self) -> bool:
        """False only when the holder is provably gone (same host, no such process)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        return f"{self.action} by {self.user}@{self.host} (pid {self.pid}) since {self.since}"


def lock_path(lock_dir: str, project: str) -> Path:
    return Path(lock_dir) / f"{project}.lock"


def read_holder(path: Path) -> Holder | None:
    try:
        return Holder(**json.loads((path / "holder.json").read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


@contextlib.contextmanager
def hold(lock_dir: str, project: str, action: str, *, break_stale: bool = False) -> Iterator[Holder]:
    """Take the lock for the whole block and release it on every exit; refuse if someone holds it."""
    path = lock_path(lock_dir, project)
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = Holder(action, getpass.getuser(), socket.gethostname(), os.getpid(),
                    datetime.now(timezone.utc).isoformat(timespec="seconds"))
    try:
        path.mkdir()
    except FileExistsError:
        current = read_holder(path)
        if current is not None and current.alive():
            raise LockHeld(f"refused: {project} is locked by {current.describe()}") from None
        what = current.describe() if current else "an unreadable holder"
        if not break_stale:
            raise LockHeld(
                f"refused: stale lock on {project} left by {what}, which is no longer running. "
                f"If nothing else runs, break it with --break-stale-lock (lock: {path})"
            ) from None
        (path / "holder.json").unlink(missing_ok=True)
    (path / "holder.json").write_text(json.dumps(vars(holder)))
    try:
        yield holder
    finally:
        (path / "holder.json").unlink(missing_ok=True)
        path.rmdir()


def hold_stack(config, action: str, *, break_stale: bool = False):
    """The operations lock of one configured stack (deploy, rollback and backup share it)."""
    return hold(config.stack.lock_dir, config.stack.project, action, break_stale=break_stale)
