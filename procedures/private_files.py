"""Files and directories only their owner can read: everything the suite writes (reports, records,
ledger, audit log, locks, proposals, overlays) may hold a host name, a path or a redacted error."""

import os
import stat
from pathlib import Path


def private_dir(path, tighten: bool = True) -> Path:
    """Create path and its missing parents 0700; with tighten, an existing path of ours is made 0700
    too (never a shared, sticky directory like /tmp, and never one of its existing parents)."""
    path = Path(path)
    for missing in reversed([p for p in (path, *path.parents) if not p.exists()]):
        missing.mkdir(mode=0o700, exist_ok=True)
        os.chmod(missing, 0o700)  # mkdir's mode is filtered through the umask
    found = path.stat()
    if tighten and found.st_mode & 0o077 and not found.st_mode & stat.S_ISVTX and found.st_uid == os.geteuid():
        os.chmod(path, 0o700)
    return path


def open_private(path, append: bool = False):
    """Open path for writing text, created or tightened to 0600; what goes in must be redacted."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "a" if append else "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def write_private(path, text: str) -> Path:
    """Write text to path 0600 under a partial name, then rename: never a half-written final name."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with open_private(partial) as out:
        out.write(text)
    os.replace(partial, path)
    return path
