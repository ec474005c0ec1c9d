"""Files and directories only their owner can read: everything the suite writes (reports, records,
ledger, audit log, locks, proposals, overlays) may hold a host name, a path or a redacted error.

The suite runs as root: a symbolic link (or a second hard link) planted where it writes would make
it write through to any file on the host. So files are opened with O_NOFOLLOW and must be regular
files with one link; new files are created O_EXCL (or by mkstemp) and renamed into place.
"""

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

# Set by an ops check (runbook_plugin/options.py) and scripts/run-check.sh: whatever else the
# process or its children create is private too.
PRIVATE_UMASK = 0o077


class UnsafePath(OSError):
    """A path the suite writes is a symbolic link, a hard link or not a regular file: refused."""

    def __init__(self, path, what: str):
        super().__init__(errno.EPERM, f"{path} is {what}; refused, the suite never writes through one "
                                      "(remove it, then run again)", str(path))


def _refuse_links(fd: int, path) -> None:
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode):
        raise UnsafePath(path, "not a regular file")
    if found.st_nlink > 1:
        raise UnsafePath(path, "a hard link to another file")


def _open(path, flags: int):
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if e.errno == errno.ELOOP:  # O_NOFOLLOW's answer to a symbolic link
            raise UnsafePath(path, "a symbolic link") from e
        raise


def refuse_foreign_link(path) -> None:
    """Refuse a symbolic link at path that another user owns (as the kernel's protected_symlinks
    does in sticky directories): one the operator made, as root, is a deliberate choice."""
    path = Path(path)
    if path.is_symlink() and path.lstat().st_uid != os.geteuid():
        raise UnsafePath(path, "a symbolic link another user owns")


def private_dir(path, tighten: bool = True) -> Path:
    """Create path and its missing parents 0700; with tighten, an existing path of ours is made 0700
    too (never a shared, sticky directory like /tmp, and never one of its existing parents). A
    symbolic link another user owns is refused there: the suite's files would land where it points."""
    path = Path(path)
    for missing in reversed([p for p in (path, *path.parents) if not os.path.lexists(p)]):
        missing.mkdir(mode=0o700, exist_ok=True)  # mkdir never follows a link
        _tighten(missing)  # mkdir's mode is filtered through the umask
    refuse_foreign_link(path)
    found = path.stat()
    if tighten and found.st_mode & 0o077 and not found.st_mode & stat.S_ISVTX and found.st_uid == os.geteuid():
        os.chmod(path, 0o700)
    return path


def _tighten(directory: Path) -> None:
    """chmod 0700 through a descriptor of the directory itself: a link swapped in meanwhile is not followed."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def open_private(path, append: bool = False, exclusive: bool = False):
    """Open path for writing text, created or tightened to 0600; what goes in must be redacted.
    Never through a symbolic link or into a hard-linked file; `exclusive` refuses an existing path."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else 0) | (os.O_EXCL if exclusive else 0)
    fd = _open(path, flags)
    try:
        _refuse_links(fd, path)  # before truncating: a hard link's other name must keep its content
        if not append:
            os.ftruncate(fd, 0)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "a" if append else "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def write_private(path, text: str) -> Path:
    """Write text to path 0600 under a fresh partial name (mkstemp: O_EXCL, never a planted link),
    then rename: never a half-written final name, and a link planted at path is replaced, not followed."""
    path = Path(path)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return path
