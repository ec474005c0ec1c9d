"""The stack-health runbook: is the stack whole and serving? Engine, compose model, database volume,
container health, readiness through the proxy, what the host publishes, the served version.

`HEALTH` lists the steps once: `checkup(ctx)` runs them all, ops_checks/stack_health.py one by one.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

import testinfra

from ..context import OpsContext
from ..errors import NotReady, OpsError
from ..runbook import Runbook, Step
from . import readiness, services, tools, volumes
from .serving import with_serving_tag


@dataclass
class CheckupRun:
    ctx: OpsContext  # with the serving TAG once known


def engine_and_compose_answer(run: CheckupRun) -> dict:
    """Docker engine and compose v2 answer."""
    versions = tools.tool_versions()
    if versions["Docker engine"].startswith("unavailable"):
        raise NotReady(versions["Docker engine"])
    if not versions["Docker Compose"].startswith("2."):
        raise NotReady("compose v2 is required: " + versions["Docker Compose"])
    return versions


def serving_release(run: CheckupRun) -> str:
    """The serving release is known (--tag, else the running app's image)."""
    run.ctx = with_serving_tag(run.ctx)
    return run.ctx.tag


def external_database_volume(run: CheckupRun) -> dict:
    """The compose model renders, with the database volume external and named as configured."""
    pgdata = run.ctx.compose.rendered()["volumes"]["pgdata"]
    if pgdata.get("external") is not True or pgdata.get("name") != run.ctx.config.volumes.database:
        raise OpsError(f"the database volume renders as {pgdata}; it must be external and named "
                       f"{run.ctx.config.volumes.database!r} (docker-compose.prod.yml last)")
    return pgdata


def database_volume_mounted(run: CheckupRun) -> dict:
    """The configured database volume exists and is the one the running database uses."""
    facts = volumes.require_database_volume(run.ctx.config.volumes.database)
    return {**vars(facts), "mounted by the db": volumes.refuse_volume_drift(run.ctx)}


def services_healthy(run: CheckupRun) -> dict:
    """Every service runs and passes its healthcheck."""
    names = run.ctx.config.services
    return services.wait_healthy(run.ctx.compose, [names.database, *names.app, names.proxy], timeout=60)


def ready_through_proxy(run: CheckupRun) -> readiness.HttpResult:
    """/readyz is green through the reverse proxy."""
    return readiness.wait_until_ready(run.ctx.config.http, timeout=30)


def proxy_on_loopback_only(run: CheckupRun, host=None) -> list[str]:
    """The host publishes the proxy on 127.0.0.1 only (testinfra reads the host's sockets)."""
    host = host or testinfra.get_host("local://")
    port = urlsplit(run.ctx.config.http.base_url).port or 80
    listening = [s for s in host.socket.get_listening_sockets() if s.endswith(f":{port}")]
    public = [s for s in listening if not s.startswith(("tcp://127.", "tcp://::1"))]
    if f"tcp://127.0.0.1:{port}" not in listening or public:
        raise OpsError(f"the proxy must listen on 127.0.0.1:{port} only; listening: {listening}")
    return listening


def version_is_serving_tag(run: CheckupRun) -> readiness.HttpResult:
    """/version reports the serving TAG."""
    result = readiness.get(run.ctx.config.http.base_url, run.ctx.config.http.version_path)
    if not (result.ok and result.json().get("version") == run.ctx.tag):
        raise NotReady(f"{result.url} answered {result.status}: {result.body[:200]}; expected version {run.ctx.tag}")
    return result


HEALTH = Runbook("stack_health", (
    Step("tools", engine_and_compose_answer),
    Step("serving", serving_release),
    Step("compose_model", external_database_volume),
    Step("database_volume", database_volume_mounted),
    Step("services", services_healthy),
    Step("ready", ready_through_proxy),
    Step("loopback", proxy_on_loopback_only),
    Step("version", version_is_serving_tag),
))


def checkup(ctx: OpsContext) -> CheckupRun:
    """Run every health step; raises at the first one that fails."""
    run = CheckupRun(ctx)
    HEALTH.run_all(run)
    return run
