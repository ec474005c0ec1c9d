"""Traefik with its Docker provider, read from the labels it reads itself (the rendered compose model's
`labels:`): each router's service, that service's port, its health checks and its middlewares.

Traefik finds containers by the engine's events and leaves out one whose healthcheck is not yet
healthy, so a new container joins once healthy; a request in flight when the old one stops is tried
again on the other server only through a `retry` middleware. Without a healthcheck (the container's
or `loadbalancer.healthcheck.*`) the new container gets requests before it is ready. A stopped
container stays in Traefik's rotation until its next reload, whatever its Docker health says; only
Traefik's own probe (`loadbalancer.healthcheck.path`) drops it within its interval.
"""

import re

from ..compose_model import container_ports
from .proxy_view import RUNBOOK, ProxyView, Upstream

# Traefik reloads its config at most this often after the engine's events (providersThrottleDuration's
# default, 2 s): the new container is served at most this long after it turned healthy.
THROTTLE_SECONDS = 2.0
# Traefik balances round-robin, so a retry lands on the stopping container again about every other time
# until its reload drops it: 4 attempts failed 3 of ~50 requests in that window under 20 requests/s
# (tests/stack/test_traefik_switch.py, 2026-12-06); 10 leave about one in a thousand to chance.
RETRY_ATTEMPTS = 10
_ROUTER = re.compile(r"^traefik\.http\.routers\.([^.]+)\.(service|middlewares)$")
_SERVICE_PORT = re.compile(r"^traefik\.http\.services\.([^.]+)\.loadbalancer\.server\.port$")
_RETRY = re.compile(r"^traefik\.http\.middlewares\.([^.]+)\.retry\.attempts$")
_SERVICE = re.compile(r"^traefik\.http\.services\.([^.]+)\.")
_PROBE_PATH = re.compile(r"^traefik\.http\.services\.[^.]+\.loadbalancer\.healthcheck\.path$")
# Traefik's probe, as DEPLOYMENT_RUNBOOK.md section 9 gives it: a stopped container leaves the rotation
# within about a second, before the provider's reload (measured in tests/stack/test_traefik_switch.py).
PROBE_INTERVAL, PROBE_TIMEOUT = "1s", "3s"
DIAL_TIMEOUT = "--serversTransport.forwardingTimeouts.dialTimeout=1s"
UNKNOWN_READY_PATH = "<ready path>"


def _labels(service: dict) -> dict[str, str]:
    labels = service.get("labels") or {}
    if isinstance(labels, list):  # compose renders a mapping; a raw file may hold a list
        labels = dict(item.split("=", 1) for item in labels if "=" in item)
    return {str(k).lower() if str(k).lower().startswith("traefik.") else str(k): str(v) for k, v in labels.items()}


def carries_labels(service: dict) -> bool:
    """The service has labels for Traefik's Docker provider."""
    return any(key.startswith("traefik.") for key in _labels(service))


def exposed_by_default(model: dict) -> bool:
    """False when a Traefik in the model runs with --providers.docker.exposedByDefault=false."""
    for service in model.get("services", {}).values():
        command = service.get("command") or []
        words = command if isinstance(command, list) else str(command).split()
        if any(w.lower().replace(" ", "") == "--providers.docker.exposedbydefault=false" for w in words):
            return False
    return True


def _retry_middlewares(model: dict) -> set[str]:
    """Names of retry middlewares any container's labels define (Traefik shares them as name@docker)."""
    return {m[1] for service in model.get("services", {}).values() for key in _labels(service)
            if (m := _RETRY.match(key)) and int(_labels(service)[key] or 0) > 0}


def _port(name: str, service: dict, labels: dict[str, str]) -> int:
    """The port Traefik sends to: the label, else the one port the container exposes (`expose:` or a
    published port's target)."""
    for key, value in labels.items():
        if _SERVICE_PORT.match(key):
            return int(value)
    exposed = container_ports(service)
    return exposed[0] if len(exposed) == 1 else 0


def _routers(labels: dict[str, str]) -> dict[str, dict[str, str]]:
    routers: dict[str, dict[str, str]] = {}
    for key, value in labels.items():
        match = _ROUTER.match(key)
        if match:
            routers.setdefault(match[1], {})[match[2]] = value
        elif key.startswith("traefik.http.routers.") and key.count(".") >= 4:
            routers.setdefault(key.split(".")[3], {})
    return routers


def _has_health(service: dict, labels: dict[str, str]) -> bool:
    healthcheck = service.get("healthcheck") or {}
    own = bool(healthcheck.get("test")) and not healthcheck.get("disable") and healthcheck.get("test") != ["NONE"]
    return own or any(".loadbalancer.healthcheck." in key for key in labels)


def _probed(labels: dict[str, str]) -> bool:
    """Traefik's own health check is on: a path is what turns it on."""
    return any(_PROBE_PATH.match(key) and value for key, value in labels.items())


def _traefik_service(name: str, labels: dict[str, str], routers: dict[str, dict[str, str]]) -> str:
    """The name Traefik gives the service the routers send to: a router's `service`, else the one its
    labels define; else the compose service's name, which labels naming it define (a container defining
    exactly one service has its routers sent there)."""
    named = [s["service"].split("@")[0] for s in routers.values() if s.get("service") and "@" not in s["service"]]
    defined = sorted({m[1] for key in labels if (m := _SERVICE.match(key))})
    return (named or defined or [name])[0]


def _dial_timeout_set(model: dict) -> bool:
    for service in model.get("services", {}).values():
        command = service.get("command") or []
        words = command if isinstance(command, list) else str(command).split()
        if any(w.lower().startswith(DIAL_TIMEOUT.lower().split("=")[0]) for w in words):
            return True
    return False


def _probe_labels(service: str, ready_path: str | None) -> list[str]:
    prefix = f"traefik.http.services.{service}.loadbalancer.healthcheck"
    return [f"{prefix}.path={ready_path or UNKNOWN_READY_PATH}", f"{prefix}.interval={PROBE_INTERVAL}",
            f"{prefix}.timeout={PROBE_TIMEOUT}"]


def _patch(name: str, compose_file: str, routers: dict[str, dict[str, str]], healthy: bool, retried: bool,
           probe: list[str], dial_timeout_set: bool = True, ready_path: str | None = None) -> str:
    lines = []
    if not retried:
        middleware = f"{name}-retry"
        lines += [f"traefik.http.middlewares.{middleware}.retry.attempts={RETRY_ATTEMPTS}",
                  f"traefik.http.middlewares.{middleware}.retry.initialinterval=50ms"]
        for router, settings in sorted(routers.items()) or [(name, {})]:
            current = [m for m in settings.get("middlewares", "").split(",") if m.strip()]
            lines.append(f"traefik.http.routers.{router}.middlewares={','.join([*current, middleware])}")
    lines += probe
    patch = (f"in {compose_file}, under services.{name}.labels add " + " ".join(f"`{line}`" for line in lines)) \
        if lines else ""
    if probe and not ready_path:
        # Never a guessed path: a probe on a path the app does not serve would take every container out.
        patch += (f" (the app's ready path is not known here: put for {UNKNOWN_READY_PATH} the path that answers "
                  "200 only when the app can serve, the stack's [http] ready_path)")
    if not healthy:
        patch += ("; and " if patch else f"in {compose_file}, ") + (
            f"give services.{name} a `healthcheck:` that asks its readiness endpoint (Traefik leaves a container "
            "out until it is healthy)")
    if probe and not dial_timeout_set:
        patch += f"; and start Traefik with `{DIAL_TIMEOUT}` (a dial to a stopped container's address hangs ~3 s)"
    return patch


def judge(model: dict, services: list[str], compose_file: str = "the compose file",
          ready_path: str | None = None) -> ProxyView:
    """The app services Traefik routes to (by their labels), each with its port and what would fail a
    switch, with the labels that fix it (Traefik's probe on ready_path; None: said to be unknown, never guessed)."""
    by_default = exposed_by_default(model)
    retry = _retry_middlewares(model)
    dial_timeout_set = _dial_timeout_set(model)
    upstreams: dict[str, Upstream] = {}
    for name in services:
        service = model.get("services", {}).get(name) or {}
        labels = _labels(service)
        enabled = labels.get("traefik.enable", str(by_default)).lower() == "true"
        routers = _routers(labels)
        if not enabled or not routers and not any(_SERVICE_PORT.match(k) for k in labels):
            continue
        retried = bool(routers) and all(
            {m.strip().split("@")[0] for m in settings.get("middlewares", "").split(",")} & retry
            for settings in routers.values())
        healthy = _has_health(service, labels)
        traefik_service = _traefik_service(name, labels, routers)
        probe = [] if _probed(labels) else _probe_labels(traefik_service, ready_path)
        problems = ([f"no `retry` middleware on its router(s) {', '.join(sorted(routers)) or name}: a request in "
                     "flight when the old container stops is not tried on the new one"] if not retried else []) \
            + (["no healthcheck: Traefik sends requests to the new container before it is ready"] if not healthy else [])
        # Not a reason to recreate (that fails far more): a start-first switch still runs, with this said.
        unprobed = (f"no Traefik health check on its service {traefik_service} (`loadbalancer.healthcheck.path`): "
                    "Traefik keeps the stopped old container in rotation until its next reload, and retries land on "
                    "its vanished address") if probe else ""
        fix = _patch(name, compose_file, routers, healthy, retried, probe, dial_timeout_set, ready_path) \
            if problems or probe else ""
        problem = f"{'; '.join([*problems, *filter(None, [unprobed])])} ({RUNBOOK}); fix: {fix}" if problems else ""
        advice = f"{unprobed} ({RUNBOOK}); fix: {fix}" if unprobed and not problems else ""
        port = _port(name, service, labels)
        if not port:
            problem = (f"Traefik's port for {name} is not in its labels (`traefik.http.services.<name>.loadbalancer."
                       "server.port`) and it exposes more or less than one port; " + (problem or f"({RUNBOOK})"))
        upstreams[name] = Upstream(name, port, problem, fix, advice, probed=not probe)
    return ProxyView("traefik", upstreams, refresh_seconds=THROTTLE_SECONDS, follows_health=True)
