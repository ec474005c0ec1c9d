"""The real-world corpus (tests/fixtures/real-world/): each case's files, its hand-written roles, and its
compose renders cached by content, so a test session renders each file once per worker."""

import copy
import hashlib
import json
import os
import tempfile
import tomllib
from pathlib import Path

import pytest

from procedures import runner
from procedures.commands import compose as compose_cmd
from procedures.config import StackConfig

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "real-world"
TABLE = tomllib.loads((CORPUS / "expected_roles.toml").read_text())
CASES = sorted(TABLE)
# What an operator's shell would hold: none of the variables compose or the suite read.
PLAIN = ("TAG", "COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "PGDATA_VOLUME", "UPLOADS_VOLUME")
_renders: dict[str, dict] = {}


def files(case: str) -> list[Path]:
    return [CORPUS / case / name for name in TABLE[case].get("files", ["docker-compose.yml"])]


def param(case: str, area_key: str = "xfail") -> pytest.param:
    """The case, marked as waiting for another issue-25 area when the table says so (a case whose roles
    wait for one waits in every test)."""
    area = TABLE[case].get(area_key) or TABLE[case].get("xfail")
    marks = [pytest.mark.xfail(strict=True, reason=f"issue 25 {area}")] if area else []
    return pytest.param(case, marks=marks, id=case)


def _content_key(project: str, paths: tuple[Path, ...], environment: dict) -> str:
    digest = hashlib.sha256(json.dumps([project, [str(p) for p in paths], sorted(environment.items())]).encode())
    for folder in sorted({p.parent for p in paths}):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _shared_dir() -> Path | None:
    """A directory the session's test workers share (pytest-xdist names the run), else none."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return Path(tempfile.gettempdir()) / f"opsuite-real-world-{run}" if run else None


def rendered(project: str, *paths: Path, environment: dict | None = None) -> dict:
    """The model compose renders with every profile (the files' directory's .env included), once per content
    and session: the workers of one run share the renders through a directory of that run."""
    environment = environment or {}
    key = _content_key(project, paths, environment)
    shared = _shared_dir()
    cached = shared / f"{key}.json" if shared else None
    if key not in _renders and cached is not None and cached.is_file():
        _renders[key] = json.loads(cached.read_text())
    if key not in _renders:
        stack = StackConfig(project=project, compose_files=tuple(paths))
        # The caller's environment holds none of PLAIN (the tests' plain_environment fixture).
        done = runner.run(compose_cmd.config_json_every_profile(stack), limit="command", env=environment or None)
        _renders[key] = json.loads(done.stdout)
        if cached is not None:
            cached.parent.mkdir(exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(done.stdout)
            partial.replace(cached)
    return copy.deepcopy(_renders[key])
