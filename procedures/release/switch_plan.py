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

from ..context import OpsContext
from ..stack.serving import running_containers
from ..stack import proxy_config
from . import one_copy

START_FIRST, STOP_FIRST, RECREATE = "start-first", "stop-first", "recreate"


@dataclass(frozen=True)
class ServiceSwitch:
    service: str
    how: str
    why: str
    port: int = 0  # where the new container answers readiness directly (start-first only)

    def describe(self) -> dict:
        return {"service": self.service, "how": self.how, "why": self.why}


def _proxy_container(ctx: OpsContext) -> str | None:
    found = running_containers(ctx, ctx.config.services.proxy) if ctx.config.services.proxy else []
    return found[0] if found else None


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


Plan = tuple[list[ServiceSwitch], proxy_config.ProxyView | None]


def plan(ctx: OpsContext) -> Plan:
    """Each serving service's switch, and the proxy's view it was decided on (None without a proxy)."""
    names = ctx.config.services
    rendered = ctx.compose.rendered()
    model = rendered["services"]
    proxy = _proxy_container(ctx)
    view = proxy_config.read(proxy, list(names.app)) if proxy else None
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
        elif not names.proxy:
            why = "no proxy in front of it ([services] proxy = \"\")"
        elif view is None:
            why = f"the proxy {names.proxy!r} is not running, so its config cannot be checked"
        elif upstream is None:
            why = (view.problem or f"the proxy's {view.kind} config forwards nothing to {name!r}") \
                + ": it is not switched start-first"
        else:
            why = _why_not_beside(name, model.get(name, {})) or upstream.problem
        if why:
            switches.append(ServiceSwitch(name, RECREATE, why))
        else:
            switches.append(ServiceSwitch(name, START_FIRST, f"behind {view.kind}, which re-resolves {name!r} and "
                                                             f"retries a refused connection", upstream.port))
    return switches, view
