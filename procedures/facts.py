"""Versions of the tools a run depends on, for the evidence table."""

import json

from . import database, release, runner
from .commands import docker as cmd
from .errors import CommandFailed, OpsError


def tool_versions() -> dict[str, str]:
    versions = {}
    try:
        server = json.loads(runner.run(cmd.version_json()).stdout).get("Server") or {}
        versions["Docker engine"] = f"{server.get('Version', '?')} (API {server.get('ApiVersion', '?')})"
    except (CommandFailed, ValueError) as e:
        versions["Docker engine"] = f"unavailable: {e}"
    try:
        versions["Docker Compose"] = runner.run(cmd.compose_version()).stdout.strip()
    except CommandFailed as e:
        versions["Docker Compose"] = f"unavailable: {e}"
    return versions


def database_version(ctx) -> str:
    """The running database server's version, or why it is unknown (for the evidence table)."""
    try:
        ctx = ctx if ctx.tag else ctx.with_tag(release.running_tag(ctx))
        return database.query(ctx, "SHOW server_version")
    except OpsError as e:
        return f"unknown ({str(e).splitlines()[0][:120]})"
