"""A Zen Ops-shaped stack on an operator's host, for tests: the fixture's own compose files
(tests/fixtures/stacks/zenops) copied to a work dir and run plainly with locally built stand-in
images, as it ran before the suite; then adopted with the config discovery proposes for it.

The app's `./deploy/...` binds land in the work dir.
"""

from pathlib import Path

from . import proposals
from .ops_run import passed, run_check
from .seed_host import OFFSITE_STANDIN, SeedHost, append_env, copy_fixture

# What the fixture's image variables point at on a machine without a registry (scripts/build-images.sh).
STANDIN_IMAGES = {
    "API_IMAGE": "opsuite-local/zenops-fixture-api",
    "POSTGRES_IMAGE": "opsuite-local/postgres-standin:15",
    "UTILITY_IMAGE": "opsuite-local/debian:bookworm",
    "CADDY_IMAGE": "opsuite-local/caddy-standin:bookworm",
}


def create(workdir: Path) -> SeedHost:
    """Copy the fixture's compose files, Caddyfile and env files; point its images at the stand-ins."""
    host = copy_fixture("zenops", workdir, "zen", ("docker-compose.yml", "docker-compose.loopback.yml"),
                        ignore=("app", "images"))
    append_env(host.app_dir / ".env", {**STANDIN_IMAGES, "PROXY_PORT": str(host.port),
                                       "OFFSITE_PASSWORD": host.offsite_password})
    return host


def start_plainly(host: SeedHost, tag: str) -> None:
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


def let_caddy_retry(host: SeedHost) -> None:
    """The fix a deploy names for this stack's Caddyfile (docs/DEPLOYMENT_RUNBOOK.md section 9):
    `lb_try_duration 5s` in its reverse_proxy block, then Caddy reloaded, as an operator does it."""
    caddyfile = host.app_dir / "Caddyfile"
    caddyfile.write_text(caddyfile.read_text().replace(
        "reverse_proxy api:8000\n", "reverse_proxy api:8000 {\n\t\t\tlb_try_duration 5s\n\t\t}\n"))
    host.compose("exec", "-T", "reverse-proxy", "caddy", "reload", "--config", "/etc/caddy/Caddyfile",
                 "--adapter", "caddyfile")


def adopted(host: SeedHost, reports: Path, tag: str = "1.0.0"):
    """The host running plainly at tag, discovered, settled and adopted by the operator's checks."""
    stack = proposals.adopted_stack(host, reports, settle_proposal, tag, password="fixture-password")
    passed(run_check(stack, reports, "adopt", f"--tag={tag}", env={"CONFIRM": "YES"})[0])
    return stack
