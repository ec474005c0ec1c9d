"""A Zen Ops-shaped stack on an operator's host, for tests: the fixture's own compose files
(tests/fixtures/stacks/zenops) copied to a work dir and run plainly with locally built stand-in
images, as it ran before the suite; then adopted with the config discovery proposes for it.

The copy keeps the repository clean: the app's `./deploy/...` binds and the overlay the suite
generates land in the work dir. The project name carries the test prefix, so cleanup may remove it.
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
from .disposable import ROOT, TEST_PREFIX, free_port

FIXTURE = ROOT / "tests" / "fixtures" / "stacks" / "zenops"
OFFSITE_STANDIN = ROOT / "example" / "docker-compose.offsite-standin.yml"
# What the fixture's image variables point at on a machine without a registry (scripts/build-images.sh).
STANDIN_IMAGES = {
    "API_IMAGE": "opsuite-local/zenops-fixture-api",
    "POSTGRES_IMAGE": "opsuite-local/postgres-standin:15",
    "UTILITY_IMAGE": "opsuite-local/debian:bookworm",
    "CADDY_IMAGE": "opsuite-local/caddy-standin:bookworm",
}


@dataclass
class ZenOpsHost:
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


def create(workdir: Path) -> ZenOpsHost:
    """Copy the fixture's compose files, Caddyfile and env files; point its images at the stand-ins."""
    project = f"{TEST_PREFIX}zen{uuid4().hex[:6]}"
    app_dir = workdir / "zenops"
    shutil.copytree(FIXTURE, app_dir, ignore=shutil.ignore_patterns("app", "images"))
    host = ZenOpsHost(project, app_dir, free_port(), secrets.token_urlsafe(18), secrets.token_urlsafe(18))
    env = app_dir / ".env"
    extra = {**STANDIN_IMAGES, "PROXY_PORT": str(host.port), "OFFSITE_PASSWORD": host.offsite_password}
    env.write_text(env.read_text() + "".join(f"{k}={v}\n" for k, v in extra.items()))
    return host


def start_plainly(host: ZenOpsHost, tag: str) -> None:
    """`TAG=... docker compose up -d --wait`: migrate and uploads-perms run first, as the app's file says."""
    host.compose("up", "--detach", "--wait", tag=tag, timeout=400)


# The proposal's lines an operator settles for this stack: each one discovery marked as a guess.
SETTLED_GUESSES = {
    "environment": '"ci"',
    "version_field": '"build"',  # Zen Ops' /version carries the release in `build`
    "remote": '"gdrive-crypt:zenops"',  # the crypt remote over the stand-in
}


def settle_proposal(proposal: Path) -> Path:
    """The proposal settled at its guesses, with the test host's offsite stand-in."""
    return proposals.settle(proposal, SETTLED_GUESSES, [OFFSITE_STANDIN])
