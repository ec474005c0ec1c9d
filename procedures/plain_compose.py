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

import re
from pathlib import Path

from .config import StackConfig
from .errors import ConfigError
from .file_edit import replace_keeping_copy

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
    settings = plain_settings(stack, tag)
    if any(_setting(line) == "COMPOSE_PATH_SEPARATOR" for line in (before or "").splitlines()):
        # compose would split the suite's COMPOSE_FILE at the operator's separator
        settings["COMPOSE_PATH_SEPARATOR"] = SEPARATOR
    text = with_settings(before or "", settings)
    if text == before:
        return {"env file": str(path), "changed": False}
    kept = replace_keeping_copy(path, text, "before-opsuite")
    return {"env file": str(path), "changed": True, "kept as": str(kept) if kept else None}
