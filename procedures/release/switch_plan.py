"""How a release switch moves each serving service, and why: decided before anything changes, so the
deploy says up front which services switch without a failed request and which cannot, naming the
setting that stops them.

- start-first: a stateless app service behind a proxy that re-resolves and retries; the new
  container starts beside the old one and takes over once it is ready (release/start_first.py).
- stop-first: a service of which one copy only may run (release/one_copy.py): it holds the SQLite
  database, is named in [services] single_instance (the email worker) or its compose file says
  deploy.replicas: 1. Two copies never run at once, whatever [deploy] start_first says.
- recreate: everything else, as compose does it (stop, then start): a short gap in service.
"""

from dataclasses import dataclass

from .. import compose_model, docker_api
from ..context import OpsContext
from ..stack.serving import running_containers
from ..stack import proxy_config
from ..stack.proxy_view import ProxyView, Upstream
from . import one_copy

START_FIRST, STOP_FIRST, RECREATE = "start-first", "stop-first", "recreate"


@dataclass(frozen=True)
class ServiceSwitch:
    service: str
    how: str
    why: str
    port: int = 0  # where the new container answers readiness directly (start-first only)
    # Requests the switch is expected to fail, and the patch that avoids it: a recreated service the proxy
    # forwards to is unreachable from its old container's stop until the new one answers.
    expected_failures: str = ""

    def describe(self) -> dict:
        found = {"service": self.service, "how": self.how, "why": self.why}
        return {**found, "expected_failures": self.expected_failures} if self.expected_failures else found


def _proxy_container(ctx: OpsContext) -> str | None:
    names = ctx.config.services
    if names.proxy_container and not names.proxy:
        return names.proxy_container if _running(names.proxy_container) else None
    found = running_containers(ctx, names.proxy) if names.proxy else []
    return found[0] if found else None


def _running(container: str) -> bool:
    return docker_api.container_running(container)


def _published(service: dict) -> list[str]:
    return [str(p.get("published")) for p in service.get("ports", []) if p.get("published")]


def _why_not_beside(name: str, service: dict) -> str:
    """What in the service's compose definition keeps a second container of it from starting."""
    if service.get("container_name"):
        return f"container_name {service['container_name']!r}: compose cannot run a second container of it"
    if _published(service):
        return (f"publishes host port {', '.join(_published(service))}: only one container can hold it "
                "(put it behind the proxy to switch without a gap)")
    return ""


def _failure_window(ctx: OpsContext, name: str, service: dict, view: ProxyView | None,
                    upstream: Upstream | None) -> str:
    """What a recreate of name costs the proxy's users, when the proxy forwards to it; "" otherwise."""
    if view is not None and not view.kind and name in ctx.config.services.app:
        return (f"requests through the proxy to {name} may fail while it is recreated: the proxy's config could not be "
                f"read ({view.problem})")
    if upstream is None and view is None and _published(service) and name in ctx.config.services.app:
        return (f"requests to {name}'s published port {', '.join(_published(service))} are expected to fail from the "
                f"moment its old container is stopped (a stop takes up to {compose_model.stop_grace_seconds(service):g} s) until the new "
                f"one answers (awaited up to {ctx.config.http.ready_timeout_seconds:g} s); to switch without failures "
                "put a reverse proxy in front of it (docs/DEPLOYMENT_RUNBOOK.md section 9)")
    if upstream is None:
        return ""
    fix = f"; to switch without failures apply: {upstream.patch}" if upstream.patch else ""
    return (f"requests through the {view.kind} proxy to {name} are expected to fail from the moment its old "
            f"container is stopped (a stop takes up to {compose_model.stop_grace_seconds(service):g} s) until the new one answers "
            f"(awaited up to {ctx.config.http.ready_timeout_seconds:g} s){fix}")


def _start_first_window(view: ProxyView, upstream: Upstream) -> str:
    """What a start-first switch may still fail (the proxy's advice), with its fix; "" when nothing."""
    if not upstream.advice:
        return ""
    return (f"requests through the {view.kind} proxy to {upstream.service} may fail while its stopped old container "
            f"stays in the proxy's rotation: {upstream.advice}")


Plan = tuple[list[ServiceSwitch], ProxyView | None]


def plan(ctx: OpsContext) -> Plan:
    """Each serving service's switch, and the proxy's view it was decided on (None without a proxy)."""
    names = ctx.config.services
    rendered = ctx.compose.rendered()
    model = rendered["services"]
    proxy = _proxy_container(ctx)
    view = proxy_config.read(proxy, list(names.app), rendered, str(ctx.config.stack.app_files[0]),
                             ctx.config.http.ready_path) if proxy else None
    switches = []
    for name in names.serving:
        only_one = one_copy.reason(ctx.config, rendered, name)
        if only_one:
            switches.append(ServiceSwitch(name, STOP_FIRST, only_one))
            continue
        if name == names.proxy:
            switches.append(ServiceSwitch(name, RECREATE, "the proxy holds the published ports; compose recreates "
                                                          "it only when its image or config changed"))
            continue
        upstream = view.upstreams.get(name) if view else None
        if not ctx.config.deploy.start_first:
            why = "start-first is off ([deploy] start_first = false)"
        elif not (names.proxy or names.proxy_container):
            why = "no proxy in front of it ([services] proxy = \"\")"
        elif view is None:
            why = f"the proxy {(names.proxy or names.proxy_container)!r} is not running, so its config cannot be checked"
        elif upstream is None:
            why = (view.problem or f"the proxy's {view.kind} config forwards nothing to {name!r}") \
                + ": it is not switched start-first"
        else:
            why = _why_not_beside(name, model.get(name, {})) or upstream.problem
        if why:
            switches.append(ServiceSwitch(name, RECREATE, why, expected_failures=_failure_window(
                ctx, name, model.get(name, {}), view, upstream)))
        else:
            port = upstream.port or (compose_model.container_ports(model.get(name, {})) or [0])[0]
            switches.append(ServiceSwitch(name, START_FIRST, f"behind {view.kind}, which finds the new {name!r} and "
                                                             f"retries a refused connection", port,
                                          expected_failures=_start_first_window(view, upstream)))
    return switches, view
