"""A LazyFlow-shaped stack on an operator's host, for tests (seed 003): the fixture's compose files
(tests/fixtures/stacks/lazyflow) copied to a work dir and run plainly with locally built stand-ins
(a real Bun app writing SQLite in WAL mode, nginx in front); then adopted with the config discovery
proposes for it.

The operator's two changes are the ones the suite asks of every stack: the proxy on loopback
(docker-compose.loopback.yml) and the schema left to a one-off (`MIGRATE_ON_START=0`, `bun run
migrate`), never migrated on app start. The app writes continuously (WRITE_LOAD_MS: a task and its
event in one transaction), so every backup in the cycle is taken while it writes.
"""

from pathlib import Path

from . import proposals
from .disposable import destroy_project
from .seed_host import OFFSITE_STANDIN, SeedHost, append_env, copy_fixture

STANDIN_IMAGES = {
    "LAZYFLOW_APP_IMAGE": "opsuite-local/lazyflow-fixture-app",
    "LAZYFLOW_PROXY_IMAGE": "opsuite-local/lazyflow-fixture-proxy",
}
MIGRATE = ["bun", "run", "migrate"]
WRITE_LOAD_MS = 50


def create(workdir: Path) -> SeedHost:
    """Copy the fixture's compose files and env files; images to the stand-ins, writes never stopping."""
    host = copy_fixture("lazyflow", workdir, "lf", ("docker-compose.yml", "docker-compose.loopback.yml"),
                        ignore=("app", "images"))
    append_env(host.app_dir / ".env", {**STANDIN_IMAGES, "PROXY_PORT": str(host.port),
                                       "OFFSITE_PASSWORD": host.offsite_password})
    append_env(host.app_dir / ".env.prod", {"MIGRATE_ON_START": "0", "WRITE_LOAD_MS": str(WRITE_LOAD_MS)})
    return host


def start_plainly(host: SeedHost, tag: str) -> None:
    """The schema by the app's own migrate command, then `TAG=... docker compose up -d --wait`."""
    host.compose("run", "--rm", "--no-deps", "app", *MIGRATE, tag=tag)
    host.compose("up", "--detach", "--wait", tag=tag, timeout=400)


def destroy(host: SeedHost) -> None:
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
