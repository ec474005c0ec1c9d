"""A MariaShop stack on an operator's host, for tests: a small shop on MariaDB as many self-hosted apps
ship (the official mariadb image's MARIADB_* variables from .env, its data on a named volume at
/var/lib/mysql, a Python app with Alembic migrations), the fixture's compose file
(tests/fixtures/stacks/mariashop) copied to a work dir and run plainly with locally built stand-ins;
then adopted with the config discovery proposes for it.

The operator's change is the one the suite asks of every stack: the schema left to a one-off
(`MIGRATE_ON_START=0`, `alembic upgrade head`), never migrated on app start. The app writes
continuously (WRITE_LOAD_MS: an order and its event in one transaction), so every backup in the cycle
is taken while it writes.
"""

from pathlib import Path

from . import proposals
from .disposable import destroy_project
from .seed_host import OFFSITE_STANDIN, SeedHost, append_env, copy_fixture

MARIADB_STANDIN = "opsuite-local/mariadb-standin:10.11"
BACKUP_IMAGE = "opsuite-local/mariadb-backup:10.11"
STANDIN_IMAGES = {"MARIADB_IMAGE": MARIADB_STANDIN, "MARIASHOP_IMAGE": "opsuite-local/mariashop-fixture-app"}
MIGRATE = ["alembic", "upgrade", "head"]
WRITE_LOAD_MS = 50


def create(workdir: Path) -> SeedHost:
    """Copy the fixture's compose file and .env; images to the stand-ins, writes never stopping."""
    host = copy_fixture("mariashop", workdir, "ms", ("docker-compose.yml",), ignore=("app",))
    append_env(host.app_dir / ".env", {**STANDIN_IMAGES, "APP_PORT": str(host.port), "MIGRATE_ON_START": "0",
                                       "WRITE_LOAD_MS": str(WRITE_LOAD_MS), "OFFSITE_PASSWORD": host.offsite_password})
    return host


def start_plainly(host: SeedHost, tag: str) -> None:
    """The schema by the app's own migrate command (the database started for it), then `TAG=... docker
    compose up -d --wait`."""
    host.compose("run", "--rm", "app", *MIGRATE, tag=tag, timeout=400)
    host.compose("up", "--detach", "--wait", tag=tag, timeout=400)


def destroy(host: SeedHost) -> None:
    destroy_project(host.project)


# The proposal's lines an operator settles for this stack: each one discovery marked as a guess.
SETTLED_GUESSES = {
    "environment": '"ci"',
    "image": f'"{BACKUP_IMAGE}"',  # the backup image this machine builds (no registry here)
    "remote": '"gdrive-crypt:mariashop"',  # the crypt remote over the stand-in
    "sample_queries": '["SELECT item FROM orders LIMIT 5"]',
}


def settle_proposal(proposal: Path) -> Path:
    """The proposal settled at its guesses, with the test host's offsite stand-in."""
    return proposals.settle(proposal, SETTLED_GUESSES, [OFFSITE_STANDIN])
