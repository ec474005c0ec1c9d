"""Versions of the tools and the database server a run depends on, for the evidence table."""


from .. import docker_api, runner
from ..commands import docker as cmd
from ..errors import CommandFailed, OpsError
from .serving import with_serving_tag


def tool_versions() -> dict[str, str]:
    versions = {}
    try:
        server = docker_api.server_version()
        versions["Docker engine"] = f"{server.get('Version', '?')} (API {server.get('ApiVersion', '?')})"
    except (CommandFailed, ValueError) as e:
        versions["Docker engine"] = f"unavailable: {e}"
    try:
        versions["Docker Compose"] = runner.run(cmd.compose_version(), limit="command").stdout.strip()
    except CommandFailed as e:
        versions["Docker Compose"] = f"unavailable: {e}"
    return versions


def database_version(ctx) -> str:
    """The running database server's version, or why it is unknown (for the evidence table)."""
    try:
        ctx = with_serving_tag(ctx)
        return ctx.engine.server_version(ctx.database)
    except OpsError as e:
        return f"unknown ({str(e).splitlines()[0][:120]})"
