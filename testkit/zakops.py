"""A ZakOps-shaped stack on an operator's host, for tests (seed 002): the fixture's compose files
(tests/fixtures/stacks/zakops) copied to a work dir, its managed Postgres stood in by a server in a
compose project of its own, reached by the app only through DATABASE_URL over a network standing for
the VPS's route to the provider. It runs plainly first (migrations by hand, as the seed does), then
is adopted with the config discovery proposes for it.

The fixture names its containers (zakops-backend, zakops-outbox), so one such host runs at a time.
"""

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import docker

from procedures import runner
from procedures.commands import compose as compose_cmd
from procedures.config import StackConfig

from . import proposals
from .disposable import destroy_project
from .leftovers import holders_of
from .seed_host import OFFSITE_STANDIN, SeedHost, append_env, copy_fixture
BACKEND_IMAGE = "opsuite-local/zakops-fixture-backend"
SERVER_IMAGE = "opsuite-local/postgres-standin:15"
MIGRATE = ["python", "-m", "src.core.database.migrations"]  # seed 002's migration command
FIXED_NAMES = ["zakops-backend", "zakops-outbox"]  # the fixture's container_names


@dataclass
class ZakOpsHost(SeedHost):
    db_password: str = ""

    @property
    def db_project(self) -> str:
        return f"{self.project}-db"

    @property
    def network(self) -> str:
        return f"{self.project}-route"

    def url(self, database: str = "zakops") -> str:
        """The app's DATABASE_URL; the stand-in server speaks no TLS, so sslmode=prefer."""
        return f"postgresql://zakops:{self.db_password}@postgres.zakops.example.test:5432/{database}?sslmode=prefer"

    def managed_db(self, *args: str, timeout: float = 300):
        """The managed-Postgres stand-in's own compose project."""
        argv = compose_cmd.compose(StackConfig(self.db_project, (self.app_dir / "managed-db" / "docker-compose.yml",)),
                                   *args)
        return runner.run(argv, env={"POSTGRES_IMAGE": SERVER_IMAGE, "POSTGRES_PASSWORD": self.db_password,
                                     "MANAGED_DB_NETWORK": self.network}, timeout=timeout, limit="command")


def create(workdir: Path) -> ZakOpsHost:
    """Copy the fixture's compose files and .env; point the image and the URL at the stand-ins. The
    app's files take the release from VERSION (seed 002)."""
    files = ("docker-compose.yml", "docker-compose.managed-db.yml", "docker-compose.loopback.yml")
    seed = copy_fixture("zakops", workdir, "zak", files, ignore=("app",), release_variable="VERSION")
    host = ZakOpsHost(**vars(seed), db_password=secrets.token_urlsafe(18))
    env = host.app_dir / ".env"
    env.write_text(re.sub(r"^DATABASE_URL=.*$", f"DATABASE_URL={host.url()}", env.read_text(), flags=re.M))
    append_env(env, {"ZAKOPS_IMAGE": BACKEND_IMAGE, "BACKEND_PORT": str(host.port),
                     "MANAGED_DB_NETWORK": host.network, "OFFSITE_PASSWORD": host.offsite_password})
    return host


def start_plainly(host: ZakOpsHost, version: str) -> None:
    """The route, the managed server, the seed's migrations, then `docker compose up -d --wait`.

    One such host runs at a time, so a test project's container holding the fixed names was left by
    an earlier run that never reached its teardown: it goes first (the last CI failed on one)."""
    for leftover in holders_of(FIXED_NAMES):
        destroy_project(leftover["project"])
    docker.from_env().networks.create(host.network)
    host.managed_db("up", "--detach", "--wait")
    host.compose("run", "--rm", "--no-deps", "backend", *MIGRATE, tag=version)
    # Not --wait: compose refuses it for the worker, whose healthcheck the app's file disables.
    host.compose("up", "--detach", tag=version, timeout=400)
    host.compose("up", "--detach", "--wait", "--no-deps", "backend", tag=version, timeout=400)


def destroy(host: ZakOpsHost) -> None:
    """Remove the app's and the managed server's projects (test prefix enforced), then the route."""
    destroy_project(host.project)
    destroy_project(host.db_project)
    for network in docker.from_env().networks.list(names=[host.network]):
        network.remove()


# The proposal's lines an operator settles for this stack: each one discovery marked as a guess.
SETTLED_GUESSES = {
    "environment": '"ci"',
    "server_image": f'"{SERVER_IMAGE.rsplit(":", 1)[0]}:{{major}}"',
    "revision_query": '"SELECT max(version) FROM zakops.schema_migrations"',
    "ready_path": '"/api/health/ready"',
    "version_path": '"/api/version"',
    "version_field": '"build"',  # the image's own version; VERSION in .env stays what it was
    "remote": '"gdrive-crypt:zakops"',  # the crypt remote over the stand-in
    "migrate_command": str(MIGRATE).replace("'", '"'),
    "sample_queries": '["SELECT name FROM zakops.deals"]',
}


def settle_proposal(proposal: Path) -> Path:
    """The proposal settled at its guesses, with the test host's offsite stand-in."""
    return proposals.settle(proposal, SETTLED_GUESSES, [OFFSITE_STANDIN])
