"""The stack-health runbook: is the stack whole and serving? Engine, compose model, database volume,
container health, readiness through the proxy, what the host publishes, the served version.

`HEALTH` lists the steps once: `checkup(ctx)` runs them all, ops_checks/stack_health.py one by one.
"""

from dataclasses import dataclass

import testinfra

from ..compose_model import LOOPBACK_HOSTS, published_ports, require_external_database_volume
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
    key, volume = require_external_database_volume(run.ctx.compose.rendered(), run.ctx.config)
    return {"compose key": key, **volume}


def database_volume_mounted(run: CheckupRun) -> dict:
    """The configured database volume exists and is the one the running database uses."""
    facts = volumes.require_database_volume(run.ctx.config.volumes.database)
    return {**vars(facts), "mounted by the db": volumes.refuse_volume_drift(run.ctx)}


def services_healthy(run: CheckupRun) -> dict:
    """Every service runs and passes its healthcheck."""
    names = run.ctx.config.services
    database = list(run.ctx.engine.server_services(run.ctx.config))
    return services.wait_healthy(run.ctx.compose, [*database, *names.serving], timeout=60)


def ready_through_proxy(run: CheckupRun) -> readiness.HttpResult:
    """/readyz is green through the reverse proxy."""
    return readiness.wait_until_ready(run.ctx.config.http, timeout=30)


def _beyond_loopback(socket_url: str) -> bool:
    address = socket_url.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return not (address.startswith("127.") or address in LOOPBACK_HOSTS)


def internal_services_not_public(run: CheckupRun, host=None) -> dict:
    """The database and every other internal service are published on loopback at most (the model says
    what compose publishes, the host's sockets what listens); the proxy may be public."""
    host = host or testinfra.get_host("local://")
    published = published_ports(run.ctx.compose.rendered(), except_services=(run.ctx.config.services.proxy,))
    ports = {row["published"] for row in published}
    listening = [s for s in host.socket.get_listening_sockets() if s.rsplit(":", 1)[-1] in ports]
    declared = [row for row in published if row["host_ip"] not in LOOPBACK_HOSTS]
    exposed = [s for s in listening if _beyond_loopback(s)]
    if declared or exposed:
        services = sorted({row["service"] for row in published if row in declared
                           or any(s.endswith(f":{row['published']}") for s in exposed)})
        raise OpsError(
            f"internal service(s) {', '.join(services)} published beyond loopback: {declared or exposed}. "
            "Publish them on 127.0.0.1 only (ports: [\"127.0.0.1:HOST:CONTAINER\"]) or not at all; "
            "only the reverse proxy faces the network")
    return {"published by internal services": published, "listening on those ports": listening}


def version_is_serving_tag(run: CheckupRun) -> dict:
    """The serving release is the TAG ([http] version_path and version_field, or the running images)."""
    return readiness.check_version(run.ctx)


HEALTH = Runbook("stack_health", (
    Step("tools", engine_and_compose_answer),
    Step("serving", serving_release),
    Step("compose_model", external_database_volume, skip_reason=lambda run: volumes.outside_the_stack(run.ctx)),
    Step("database_volume", database_volume_mounted, skip_reason=lambda run: volumes.outside_the_stack(run.ctx)),
    Step("services", services_healthy),
    Step("ready", ready_through_proxy),
    Step("internal_not_public", internal_services_not_public),
    Step("version", version_is_serving_tag),
))


def checkup(ctx: OpsContext) -> CheckupRun:
    """Run every health step; raises at the first one that fails."""
    run = CheckupRun(ctx)
    HEALTH.run_all(run)
    return run
