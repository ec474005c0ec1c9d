"""A reverse proxy that another compose project runs in front of this one (a shared Traefik on an
external network, as full-stack-fastapi-template deploys it), found read-only.

Asked only when the stack has no proxy service of its own and an app service carries Traefik labels
or joins an external network: the proxy is then a running container outside the project, on a
network an app service joins, in which `traefik version` answers.
"""

from dataclasses import dataclass

from .. import docker_api, runner
from ..commands import proxy as proxy_cmd
from ..stack.proxy_traefik import carries_labels
from .roles import Roles


@dataclass(frozen=True)
class OutsideProxy:
    container: str
    project: str  # its compose project ("" when compose did not start it)
    network: str  # the network it shares with the app
    others: tuple[str, ...] = ()  # further containers where `traefik version` answered: the choice is a guess


def wanted(model: dict, roles: Roles) -> bool:
    """No proxy service, and an app service shows it is served from outside (Traefik labels, an
    external network)."""
    if roles.proxy:
        return False
    services, networks = model.get("services") or {}, model.get("networks") or {}
    for name in roles.app:
        service = services.get(name) or {}
        if carries_labels(service):
            return True
        if any((networks.get(key) or {}).get("external") for key in service.get("networks") or {}):
            return True
    return False


def app_networks(model: dict, app: list[str]) -> list[str]:
    """The engine's names of the networks the app services join (external ones first: where a shared
    proxy sits), as compose renders them."""
    services, networks = model.get("services") or {}, model.get("networks") or {}
    keys = {key for name in app for key in (services.get(name) or {}).get("networks") or {}}
    ordered = sorted(keys, key=lambda k: (not (networks.get(k) or {}).get("external"), k))
    return [(networks.get(k) or {}).get("name") or k for k in ordered]


Candidate = tuple[str, str, str]  # container, its compose project, the network it shares with the app


def candidates(members: dict[str, list[dict]], project: str) -> tuple[list[Candidate], list[Candidate]]:
    """The running containers outside project on the networks (network -> identities), each once, in
    network order: those whose image names Traefik, then the rest (asked only when none of those answers)."""
    seen, named, rest = set(), [], []
    for network, identities in members.items():
        for c in identities:
            name = c["name"].lstrip("/")
            if c.get("running") and (c.get("project") or "") != project and name not in seen:
                seen.add(name)
                group = named if "traefik" in (c.get("image") or "").lower() else rest
                group.append((name, c.get("project") or "", network))
    return named, rest


def choose(answering: list[Candidate]) -> OutsideProxy | None:
    """The first container where Traefik answered; the rest are named, for the operator to check."""
    if not answering:
        return None
    name, project, network = answering[0]
    return OutsideProxy(name, project, network, tuple(a[0] for a in answering[1:]))


def _members(network: str) -> list[dict]:
    members = docker_api.network_containers(network)
    if members is None:  # an external network not created yet: nothing sits on it
        return []
    names = [c.get("Name") for c in members.values() if c.get("Name")]
    return docker_api.container_identities(names) if names else []


def find(model: dict, roles: Roles, project: str) -> OutsideProxy | None:
    """The running Traefik outside project that shares a network with an app service; None when the
    stack has a proxy service, shows no sign of one outside, or none answers."""
    if not wanted(model, roles):
        return None
    members = {network: _members(network) for network in app_networks(model, list(roles.app))}
    for group in candidates(members, project):
        answering = [c for c in group if _traefik_answers(c[0])]
        if answering:
            return choose(answering)
    return None


def _traefik_answers(container: str) -> bool:
    return runner.run(proxy_cmd.traefik_version(container), limit="command", check=False).returncode == 0
