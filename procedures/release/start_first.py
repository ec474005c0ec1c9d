"""Start-first switch of one stateless service behind the proxy, as docker-rollout does it with compose:

1. `compose up --scale S=2N --no-recreate S`: N new containers of the new TAG beside the N old ones;
2. each new container answers readiness itself, at its own address (not through the proxy, which
   would also reach the old ones), and the proxy has found it;
3. the old containers are drained: new connections to their port are refused (a TCP reset in their own
   network namespace, so the proxy retries them on the new container) while the ones already open
   carry on; then they are stopped within their own stop grace period and removed.

Until step 3 starts, any failure or interrupt removes the new containers and leaves the old ones
serving as they were.
"""

import logging
import time

from .. import docker_api, runner
from ..commands import compose as compose_cmd
from ..commands import docker as docker_cmd
from ..context import OpsContext
from ..errors import DeployError, NotReady
from ..stack import readiness
from ..stack.proxy_view import ProxyView
from .switch_plan import ServiceSwitch

log = logging.getLogger("ops.release")
READY_POLL_SECONDS = 0.5
# Past the proxy's look-up interval before the old container goes: a look-up made just before the new
# container joined Docker's DNS is still kept for the whole interval.
LOOKUP_MARGIN_SECONDS = 1.0
# From refusing new connections to the stop: the requests already accepted finish, and a proxy probing its
# servers (Traefik's 1 s health check) takes the old one out, so no new request rides a kept-alive
# connection into the stop. Without the drain, a server that closes its listener on SIGTERM resets the
# connections still in its accept queue, after the proxy wrote a request on them: Traefik never retries
# those (1 x 502 in about half the switches of full-stack-fastapi-template, 2026-12-06).
DRAIN_SECONDS = 2.0


def container_facts(ids: list[str]) -> list[dict]:
    """id, state, config hash and network addresses of each container (one that is gone is left out)."""
    return docker_api.container_facts(ids)


def _containers(ctx: OpsContext, service: str) -> list[dict]:
    return container_facts(docker_api.service_containers(ctx.config.stack.project, service, stopped_too=True))


def _wanted_hash(ctx: OpsContext, service: str) -> str:
    return ctx.compose.run(compose_cmd.config_hash(ctx.config.stack, service), limit="command").stdout.split()[-1]


def ready_directly(ctx: OpsContext, container: dict, port: int, deadline: float, ask=None) -> dict:
    """Poll the container's own readiness endpoint until 2xx (asked by `ask` when given: from inside a
    sealed network); NotReady when it exits or the time is up."""
    http = ctx.config.http
    while True:
        facts = (container_facts([container["id"]]) or [{**container, "state": "removed"}])[0]
        addresses = [a for a in facts["addresses"] if a]
        if facts["state"] != "running":
            raise NotReady(f"container {facts['id'][:12]} is {facts['state']}")
        if addresses:
            answer = (ask or readiness.get)(f"http://{addresses[0]}:{port}", http.ready_path, timeout=3.0,
                                            verify=http.verify, headers=readiness.public_host(http))
            if answer.ok:
                return {"container": facts["id"][:12], "base_url": f"http://{addresses[0]}:{port}",
                        "url": answer.url, "status": answer.status}
            last = f"{answer.status}: {answer.body[:200]}"
        else:
            last = "no network address yet"
        if time.monotonic() >= deadline:
            raise NotReady(f"container {facts['id'][:12]} not ready at its own {http.ready_path}: last answer {last}")
        time.sleep(READY_POLL_SECONDS)


def _healthy(containers: list[dict], deadline: float) -> float:
    """When every container with a healthcheck reported healthy (now, for those without one)."""
    for container in containers:
        while True:
            status = docker_api.health_status(container["id"])
            if status in ("", "healthy"):
                break
            # "unhealthy" is not final: the next passing probe makes it healthy (a slow start past its retries).
            if time.monotonic() >= deadline:
                raise NotReady(f"container {container['id'][:12]} is still {status or 'gone'} at the ready timeout: "
                               "the proxy leaves it out")
            time.sleep(READY_POLL_SECONDS)
    return time.monotonic()


def _proxy_found_new(ctx: OpsContext, proxy: ProxyView | None, resolvable: float, deadline: float,
                     new: list[dict] = ()) -> str:
    """Wait until the proxy sends requests to the new release. Each nginx worker keeps its own look-up
    of the name for up to refresh_seconds, so one worker reaching the new container says nothing of
    the others: the look-ups made before the new container existed must have expired first. Then,
    when the release is read by HTTP, the new TAG is seen answering through the proxy, unless the
    proxy reuses its connections to the old container (Caddy): then no request through it can tell,
    and the old container's stop closes them; the proxy dials the name again and retries a refused
    dial (lb_try_duration), and the deploy's readiness and version checks through it follow."""
    refresh_seconds = proxy.refresh_seconds if proxy else 0.0
    if proxy and proxy.follows_health:
        # Traefik leaves a container out until its healthcheck passes, then reloads within refresh_seconds.
        resolvable = max(resolvable, _healthy(new, deadline))
    time.sleep(max(0.0, resolvable + refresh_seconds + LOOKUP_MARGIN_SECONDS - time.monotonic()))
    expired = f"the proxy's look-ups of the name expired ({refresh_seconds:g} s)"
    if proxy and proxy.reuses_connections:
        # Without load, one kept-alive connection to the old container carried every probe until the
        # ready timeout ran out (bench.zero_downtime's unloaded switch back, 2026-12-02).
        return (f"{expired}; {proxy.kind} dials the name for each new connection and keeps the old container's "
                "connections until it stops, so it is not asked through the proxy")
    http = ctx.config.http
    if not http.version_path:
        return expired
    while True:
        served = readiness.served_release(ctx)
        if served.get("fallback"):
            # The answer names no release, so it cannot tell which container served it.
            return f"{expired}; {served['source']}"
        if served["version"] == ctx.tag:
            return f"{expired} and it answered {http.version_path} with {ctx.tag}"
        if time.monotonic() >= deadline:
            raise NotReady(f"the proxy did not send a request to {ctx.tag} within the ready timeout")
        time.sleep(0.2)


def _drain(ctx: OpsContext, containers: list[dict], port: int) -> tuple[bool, str]:
    """Refuse new connections to port in each container, then wait DRAIN_SECONDS; whether it did, and how.
    Best effort: a backup image without iptables, or an engine that refuses NET_ADMIN, leaves the switch
    as it was without it."""
    for container in containers:
        done = runner.run(docker_cmd.refuse_new_connections(container["id"], port, ctx.config.backup.image),
                          limit="command", check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            log.warning("no drain before the stop of %s: %s", container["id"][:12], reason)
            return False, (f"not drained ({reason}): the backup image {ctx.config.backup.image} needs iptables "
                           "(rebuild it from backup-image/)")
    time.sleep(DRAIN_SECONDS)
    return True, f"new connections to port {port} refused {DRAIN_SECONDS:g} s before the stop"


def _remove(containers: list[dict]) -> None:
    for container in containers:
        runner.run(docker_cmd.remove_container(container["id"]), limit="command", check=False)


def _logs(containers: list[dict]) -> str:
    parts = []
    for container in containers:
        done = runner.run(docker_cmd.container_logs(container["id"]), limit="command", check=False)
        parts.append(f"--- {container['id'][:12]}\n{done.stdout}{done.stderr}")
    return "\n".join(parts)


def switch(ctx: OpsContext, plan: ServiceSwitch, proxy: ProxyView | None) -> dict:
    """Move one service to ctx.tag start-first; DeployError (old containers serving) when the new ones fail."""
    service = plan.service
    wanted = _wanted_hash(ctx, service)
    existing = _containers(ctx, service)
    old = [c for c in existing if c["state"] == "running"]
    if old and all(c["config_hash"] == wanted for c in old):
        return {**plan.describe(), "result": "unchanged: already on this release"}
    if not old:
        ctx.compose.up([service], no_deps=True)
        return {**plan.describe(), "result": "started: nothing ran before"}
    started = time.monotonic()
    known = {c["id"] for c in existing}
    new: list[dict] = []
    try:
        ctx.compose.run(compose_cmd.scale_beside(ctx.config.stack, service, 2 * len(old)), limit="compose_up")
        # The new container's name resolves only from here: a proxy's look-up made while `compose up`
        # ran (seconds, on a busy machine) still holds the old address alone until it expires.
        resolvable = time.monotonic()
        new = [c for c in _containers(ctx, service) if c["id"] not in known]
        deadline = time.monotonic() + ctx.config.http.ready_timeout_seconds
        ready = [ready_directly(ctx, c, plan.port, deadline) for c in new]
        found = _proxy_found_new(ctx, proxy, resolvable, deadline, new)
    except BaseException as e:  # a failure, Ctrl-C or SIGTERM: the old containers keep serving
        # Interrupted inside `compose up`, the new container exists but was not listed yet; the
        # runner has stopped compose by now, so the list is final.
        new = new or [c for c in _containers(ctx, service) if c["id"] not in known]
        logs = _logs(new)
        _remove(new)
        if isinstance(e, Exception):
            raise DeployError(f"{service} of {ctx.tag} did not become ready beside the old container(s), which "
                              f"keep serving; the new one(s) were removed: {e}\nlogs of the new container(s):\n"
                              f"{logs}") from e
        raise
    ready_seconds = round(time.monotonic() - started, 3)
    drained, drain = _drain(ctx, old, plan.port)
    for container in old:
        # `docker stop` with the container's own stop grace period (compose's stop_grace_period).
        runner.run(docker_cmd.stop_container(container["id"]), limit="command")
    _remove(old)
    upstream = proxy.upstreams.get(service) if proxy else None
    probed = upstream is not None and upstream.probed
    if proxy and proxy.follows_health and not (drained and probed):
        # Traefik keeps the stopped containers in its rotation until its next reload, and a dial to their
        # vanished address hangs; the switch ends after that reload, so the checks that follow see the
        # proxy as its users will (a rollback's smoke check timed out inside that window, 2026-12-06).
        # Drained with Traefik's probe on, the old ones left its rotation before the stop.
        time.sleep(proxy.refresh_seconds + LOOKUP_MARGIN_SECONDS)
    return {**plan.describe(), "result": "switched", "old": [c["id"][:12] for c in old],
            "new": [c["id"][:12] for c in new], "ready": ready, "proxy": found, "drain": drain,
            "ready_seconds": ready_seconds,
            "drain_seconds": round(time.monotonic() - started - ready_seconds, 3)}
