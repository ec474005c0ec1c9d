"""Rewrite a file the operator owns (the stack's config, an env file) in place of the old one: the old
content kept beside it first, the new one written under a partial name with the old file's mode and
owner, then renamed. Nothing is written through a planted link; the files may hold secrets."""

import contextlib
import os
import stat
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable


def write_like(original: os.stat_result | None, data: bytes, path: Path, exclusive: bool = False) -> None:
    """Write data as path with the original file's mode and owner (0600 without one): created O_EXCL
    (a partial by mkstemp, renamed over path, or path itself when exclusive) so no planted link is
    followed."""
    if exclusive:
        fd, partial = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), None
    else:
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            if original is not None:
                with contextlib.suppress(PermissionError):  # not root: the file stays ours
                    os.fchown(out.fileno(), original.st_uid, original.st_gid)
                os.fchmod(out.fileno(), stat.S_IMODE(original.st_mode))
            out.flush()
            os.fsync(out.fileno())
        if partial:
            os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial or path)
        raise


def _kept_name(path: Path, why: str) -> Path:
    stamp = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    candidates = (path.with_name(f"{path.name}.{stamp}{f'-{n}' if n else ''}.{why}") for n in range(100))
    return next(c for c in candidates if not os.path.lexists(c))


def replace_keeping_copy(path: Path, text: str, why: str, kept_as: Callable[[Path], None] | None = None) -> Path | None:
    """Replace path with text, keeping the old file as <name>.<stamp>.<why> first and telling kept_as
    where (before path changes, so a signal arriving at any point finds the copy registered for putting
    back); returns the copy, or None when path did not exist (then it is created 0600)."""
    if not os.path.lexists(path):
        write_like(None, text.encode(), path)
        return None
    original = os.stat(path)
    kept = _kept_name(path, why)
    with open(path, "rb") as source:
        write_like(original, source.read(), kept, exclusive=True)
    if kept_as:
        kept_as(kept)
    write_like(original, text.encode(), path)
    return kept
