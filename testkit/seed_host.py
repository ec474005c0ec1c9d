"""A seed-shaped stack on an operator's host, for tests: the fixture's compose files copied to a work
dir (so the app's binds and the overlay the suite generates land there, and the repository stays
clean), run with `docker compose` as the operator ran it before the suite.

The project name carries the test prefix, so cleanup may remove it.
"""

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from procedures import runner
from procedures.commands import compose as compose_cmd
from procedures.config import StackConfig

from .disposable import ROOT, TEST_PREFIX, free_port

STACKS = ROOT / "tests" / "fixtures" / "stacks"
OFFSITE_STANDIN = ROOT / "example" / "docker-compose.offsite-standin.yml"


@dataclass
class SeedHost:
    project: str
    app_dir: Path
    port: int
    offsite_password: str
    crypt_password: str
    file_names: tuple[str, ...]  # the operator's compose files, in order: the app's own first
    release_variable: str = "TAG"  # the variable the app's own files take the release from

    @property
    def files(self) -> list[Path]:
        return [self.app_dir / name for name in self.file_names]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def compose(self, *args: str, tag: str | None = None, timeout: float = 300):
        """`docker compose` as the operator ran the stack before the suite: the app's files only."""
        argv = compose_cmd.compose(StackConfig(self.project, tuple(self.files)), *args)
        return runner.run(argv, env={self.release_variable: tag} if tag else {}, timeout=timeout, limit="command")


def copy_fixture(fixture: str, workdir: Path, short: str, file_names: tuple[str, ...], ignore: tuple[str, ...],
                 release_variable: str = "TAG") -> SeedHost:
    """Copy tests/fixtures/stacks/<fixture> (but the ignored stand-in sources) under a fresh test project."""
    app_dir = workdir / fixture
    shutil.copytree(STACKS / fixture, app_dir, ignore=shutil.ignore_patterns(*ignore))
    return SeedHost(f"{TEST_PREFIX}{short}{uuid4().hex[:6]}", app_dir, free_port(), secrets.token_urlsafe(18),
                    secrets.token_urlsafe(18), file_names, release_variable)


def append_env(path: Path, values: dict[str, str]) -> None:
    """Add KEY=value lines to an env file (created when missing)."""
    before = path.read_text() if path.is_file() else ""
    path.write_text(before + "".join(f"{key}={value}\n" for key, value in values.items()))
