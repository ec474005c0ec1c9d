"""The operations lock: one deploy or backup at a time per stack, a directory made atomically.

The holder (who, where, what, since) is written inside, so a refusal can say who holds it, with
the boot id, the process start time and a random token, so a pid reused after a reboot never
passes for the holder and a run releases only the lock it took. Every change of the lock (take,
break, release) happens under an flock of `<project>.lock.guard`, which the kernel drops when its
process dies: two runs breaking the same stale lock cannot both end up holding it, and none reads
a half-written holder.
"""

import contextlib
import fcntl
import json
import logging
import os
import secrets
import socket
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .errors import LockHeld
from .operator import operator_name
from .private_files import open_private, private_dir, refuse_foreign_link

log = logging.getLogger("ops.lock")
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot's id ("" where the kernel does not say)."""
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return ""


def process_start(pid: int) -> int | None:
    """When pid started, in clock ticks after boot (field 22 of /proc/PID/stat); None if no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2, the command name, is in parentheses and may hold spaces: count from the last ')'.
    return int(stat.rpartition(")")[2].split()[19])


@dataclass(frozen=True)
class Holder:
    action: str
    user: str
    host: str
    pid: int
    since: str
    boot_id: str = ""  # empty in a record written before the boot id was recorded
    started: int = 0  # process_start(pid) when it took the lock; 0 in such an old record
    token: str = ""

    def gone_because(self) -> str | None:
        """Why the holder provably no longer runs, or None while it may (another host: never provable)."""
        if self.host != socket.gethostname():
            return None
        if self.boot_id and boot_id() and self.boot_id != boot_id():
            return "the host rebooted since"
        started = process_start(self.pid)
        if started is not None and self.started and started != self.started:
            return f"pid {self.pid} now belongs to a later process"
        if started is not None:
            return None
        try:  # no /proc entry to read (another OS, or hidden): ask the kernel whether the pid exists
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return "its process is gone"
        except PermissionError:
            pass
        return None

    def describe(self) -> str:
        return f"{self.action} by {self.user}@{self.host} (pid {self.pid}) since {self.since}"


def lock_path(lock_dir: str, project: str) -> Path:
    return Path(lock_dir) / f"{project}.lock"


def read_holder(path: Path) -> Holder | None:
    try:
        raw = json.loads((path / "holder.json").read_text())
        known = {f.name for f in fields(Holder)}
        return Holder(**{k: v for k, v in raw.items() if k in known})
    except (OSError, ValueError, TypeError, AttributeError):  # missing, half-written or not ours to read
        return None


def _me(action: str) -> Holder:
    return Holder(action, operator_name(), socket.gethostname(), os.getpid(),
                  datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  boot_id(), process_start(os.getpid()) or 0, secrets.token_hex(16))


@contextlib.contextmanager
def _guard(path: Path) -> Iterator[None]:
    """Serialise changes of the lock at path across processes (the kernel drops it if we die)."""
    fd = os.open(f"{path}.guard", os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _take(path: Path, project: str, me: Holder, break_stale: bool) -> None:
    refuse_foreign_link(path)  # its holder.json would be written wherever the link points
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        current = read_holder(path)
        why = current.gone_because() if current is not None else "its holder record is unreadable"
        if why is None:
            raise LockHeld(f"refused: {project} is locked by {current.describe()}") from None
        what = current.describe() if current else "an unreadable holder"
        if not break_stale:
            raise LockHeld(
                f"refused: stale lock on {project} left by {what}, which is no longer running ({why}). "
                f"If nothing else runs, break it with --break-stale-lock (lock: {path})"
            ) from None
        log.warning("breaking the stale lock on %s left by %s (%s)", project, what, why)
    with open_private(path / "holder.json") as record:
        record.write(json.dumps(vars(me)))


def _release(path: Path, me: Holder) -> None:
    current = read_holder(path)
    if current != me:
        log.warning("lock %s is no longer ours (now: %s); left in place", path,
                    current.describe() if current else "no holder")
        return
    (path / "holder.json").unlink()
    path.rmdir()


@contextlib.contextmanager
def hold(lock_dir: str, project: str, action: str, *, break_stale: bool = False) -> Iterator[Holder]:
    """Take the lock for the whole block and release it on every exit if it is still ours; refuse
    if someone holds it, and break a stale one only when asked."""
    path = lock_path(lock_dir, project)
    private_dir(path.parent)
    me = _me(action)
    with _guard(path):
        _take(path, project, me, break_stale)
    try:
        yield me
    finally:
        with _guard(path):
            _release(path, me)


def hold_stack(config, action: str, *, break_stale: bool = False):
    """The operations lock of one configured stack (deploy, rollback, backup and install share it)."""
    return hold(config.stack.lock_dir, config.stack.project, action, break_stale=break_stale)
