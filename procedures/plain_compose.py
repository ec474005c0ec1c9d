"""Plain `docker compose` in the app's own directory sees the suite's overlay too.

The generated overlay is not one of compose's default files, so a bare `docker compose down -v`
run where the app lives would render the app's files alone, find the database volume owned by
compose and remove it. Compose reads COMPOSE_FILE and COMPOSE_PROJECT_NAME from the `.env` of
the project directory (the first compose file's): setting them there, with the serving TAG so
that the overlay's pinned images render, makes every plain command use the suite's files, under
which the data volumes are external and survive `down -v`.

Only those three lines of the operator's `.env` change; the file is written under a partial name
and renamed, and the previous one is kept beside it.
"""

import os
import re
from datetime import datetime, timezone
from pathlib import Path

from .config import StackConfig
from .errors import ConfigError

SEPARATOR = ":"  # compose's COMPOSE_PATH_SEPARATOR on Linux
HEADER = "# Set by opsuite: plain `docker compose` here uses the suite's files and serving TAG (docs/ADOPTING.md)"


def project_env_file(stack: StackConfig) -> Path:
    """The `.env` compose reads when run in the app's directory: beside the app's first compose file."""
    return stack.app_files[0].parent / ".env"


def plain_settings(stack: StackConfig, tag: str) -> dict[str, str]:
    """The variables that make plain compose in the app's directory render what the suite renders."""
    files = [str(path) for path in stack.compose_files]
    unsafe = [f for f in files if SEPARATOR in f or "\n" in f]
    if unsafe:
        raise ConfigError(f"[stack] compose_files: {unsafe} cannot be listed in COMPOSE_FILE (its separator is "
                          f"{SEPARATOR!r}); move the file to a path without it")
    return {"COMPOSE_PROJECT_NAME": stack.project, "COMPOSE_FILE": SEPARATOR.join(files), "TAG": tag}


def with_settings(text: str, settings: dict[str, str]) -> str:
    """text with each variable's line set to its value (the first line setting it; later ones dropped, as
    they would override it), the missing ones appended under the suite's header."""
    lines, done = text.splitlines(), set()
    out = []
    for line in lines:
        name = _setting(line)
        if name in settings:
            if name not in done:
                out.append(f"{name}={settings[name]}")
                done.add(name)
            continue
        out.append(line)
    missing = [name for name in settings if name not in done]
    if missing:
        if HEADER not in out:
            out += ([""] if out and out[-1].strip() else []) + [HEADER]
        out += [f"{name}={settings[name]}" for name in missing]
    return "\n".join(out) + "\n"


def _setting(line: str) -> str | None:
    match = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
    return match[1] if match else None


def pin(stack: StackConfig, tag: str) -> dict | None:
    """Point plain compose in the app's directory at the suite's files and the serving TAG; None when the
    suite generates no overlay for this stack (its compose files are then the operator's own choice)."""
    if stack.overlay is None:
        return None
    path = project_env_file(stack)
    before = path.read_text() if path.is_file() else None
    text = with_settings(before or "", plain_settings(stack, tag))
    if text == before:
        return {"env file": str(path), "changed": False}
    old = path.stat() if before is not None else None
    kept = None
    if before is not None:
        kept = _create(_kept_name(path), before, old)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)  # ours, left by an interrupted run (unlink never follows a link)
    os.replace(_create(partial, text, old), path)
    return {"env file": str(path), "changed": True, "kept as": str(kept) if kept else None}


def _kept_name(path: Path) -> Path:
    stamp = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    candidates = (path.with_name(f"{path.name}.{stamp}{f'-{n}' if n else ''}.before-opsuite") for n in range(100))
    return next(c for c in candidates if not os.path.lexists(c))


def _create(path: Path, text: str, like: os.stat_result | None) -> Path:
    """Create path anew (never through a planted link) holding text, with like's mode and owner (0600
    without it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            if like is not None:
                os.fchmod(out.fileno(), like.st_mode & 0o777)
                if os.geteuid() == 0:
                    os.fchown(out.fileno(), like.st_uid, like.st_gid)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
