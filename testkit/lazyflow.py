"""A LazyFlow-shaped stack on an operator's host, for tests (seed 003): the fixture's compose files
(tests/fixtures/stacks/lazyflow) copied to a work dir and run plainly with locally built stand-ins
(a real Bun app writing SQLite in WAL mode, nginx in front); then adopted with the config discovery
proposes for it.

The operator's two changes are the ones the suite asks of every stack: the proxy on loopback
(docker-compose.loopback.yml) and the schema left to a one-off (`MIGRATE_ON_START=0`, `bun run
migrate`), never migrated on app start. The app writes continuously (WRITE_LOAD_MS: a task and its
event in one transaction), so every backup in the cycle is taken while it writes.
"""

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from procedures import runner
from procedures.commands import compose as compose_cmd
from procedures.config import StackConfig

from . import proposals
from .disposable import ROOT, TEST_PREFIX, destroy_project, free_port

FIXTURE = ROOT / "tests" / "fixtures" / "stacks" / "lazyflow"
OFFSITE_STANDIN = ROOT / "example" / "docker-compose.offsite-standin.yml"
STANDIN_IMAGES = {
    "LAZYFLOW_APP_IMAGE": "opsuite-local/lazyflow-fixture-app",
    "LAZYFLOW_PROXY_IMAGE": "opsuite-local/lazyflow-fixture-proxy",
}
MIGRATE = ["bun", "run", "migrate"]
WRITE_LOAD_MS = 50


@dataclass
class LazyFlowHost:
    project: str
    app_dir: Path
    port: int
    offsite_password: str
    crypt_password: str

    @property
    def files(self) -> list[Path]:
        """The operator's files: the app's own, then the override that keeps the proxy on loopback."""
        return [self.app_dir / "docker-compose.yml", self.app_dir / "docker-compose.loopback.yml"]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def compose(self, *args: str, tag: str | None = None, timeout: float = 300):
        """`docker compose` as the operator ran the stack before the suite: the app's files only."""
        argv = compose_cmd.compose(StackConfig(self.project, tuple(self.files)), *args)
        return runner.run(argv, env={"TAG": tag} if tag else {}, timeout=timeout)


def create(workdir: Path) -> LazyFlowHost:
    """Copy the fixture's compose files and env files; images to the stand-ins, writes never stopping."""
    project = f"{TEST_PREFIX}lf{uuid4().hex[:6]}"
    app_dir = workdir / "lazyflow"
    shutil.copytree(FIXTURE, app_dir, ignore=shutil.ignore_patterns("app", "images"))
    host = LazyFlowHost(project, app_dir, free_port(), secrets.token_urlsafe(18), secrets.token_urlsafe(18))
    compose_env = {**STANDIN_IMAGES, "PROXY_PORT": str(host.port), "OFFSITE_PASSWORD": host.offsite_password}
    (app_dir / ".env").write_text("".join(f"{k}={v}\n" for k, v in compose_env.items()))
    app_env = app_dir / ".env.prod"
    app_env.write_text(app_env.read_text() + f"MIGRATE_ON_START=0\nWRITE_LOAD_MS={WRITE_LOAD_MS}\n")
    return host


def start_plainly(host: LazyFlowHost, tag: str) -> None:
    """The schema by the app's own migrate command, then `TAG=... docker compose up -d --wait`."""
    host.compose("run", "--rm", "--no-deps", "app", *MIGRATE, tag=tag)
    host.compose("up", "--detach", "--wait", tag=tag, timeout=400)


def destroy(host: LazyFlowHost) -> None:
    destroy_project(host.project)


# The proposal's lines an operator settles for this stack: each one discovery marked as a guess.
SETTLED_GUESSES = {
    "environment": '"ci"',
    "uploads": '"lazyflow_uploads"',
    "revision_query": '"SELECT max(version) FROM schema_migrations"',
    "version_path": '"/health"',  # LazyFlow's /health carries the release in `version`
    "remote": '"gdrive-crypt:lazyflow"',  # the crypt remote over the stand-in
    "migrate_command": '["bun", "run", "migrate"]',
    "sample_queries": '["SELECT title FROM tasks LIMIT 5"]',
}


def settle_proposal(proposal: Path) -> Path:
    """The proposal settled at its guesses, with the test host's offsite stand-in."""
    return proposals.settle(proposal, SETTLED_GUESSES, [OFFSITE_STANDIN])
