"""A reverse proxy to put in front of app services that publish their own port, proposed as one compose file.

With no proxy, a deploy can only recreate such a service: its port is closed from the old container's stop
until the new one answers, and every request in that window fails (healthchecks: 12 to 24 per deploy at
20 requests/s). Caddy in front, taking over the published port and retrying a refused dial for a few
seconds, lets the deploy switch the service start-first with no failed request. The file is self-contained
(the Caddyfile rides in compose's `configs: content:`), so adding it to the stack's compose files is the
whole patch; the app's own files stay as they are.
"""

import json
from dataclasses import dataclass

from ..compose_model import published_ports, stop_grace_seconds
from .roles import Roles

# Caddy retries a GET whose connection closed before an answer only within lb_try_duration, counted from
# the request's arrival; a server that holds requests while it stops (healthchecks' uwsgi: 7.6 s, 4 x 502
# with 5 s) answers none of them before it exits, so the retry must outlast the service's stop grace period.
TRY_MARGIN_SECONDS = 5.0
TRY_INTERVAL = "250ms"
# Any Caddy 2 reads this config; a pinned tag, as every image the suite deploys.
CADDY_IMAGE = "caddy:2.8.4"
CADDY_COMMAND = ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
FILE_NAME = "compose.opsuite-proxy.yml"
# The suite's own name, as its other services (opsuite-backup): no name of the app's is guessed at. A stack
# that already runs it has a proxy, so none is proposed.
SERVICE = "opsuite-proxy"


@dataclass(frozen=True)
class Upstream:
    service: str  # the app service the proxy forwards to
    host_ip: str  # the host address it published on ("" for every address)
    host_port: str
    port: int  # its container port
    try_seconds: float  # how long Caddy retries a request to it (its stop grace period and a margin)

    @property
    def binding(self) -> str:
        """compose's short syntax for the host side: ip:port, [ipv6]:port or port."""
        if not self.host_ip:
            return self.host_port
        return f"[{self.host_ip}]:{self.host_port}" if ":" in self.host_ip else f"{self.host_ip}:{self.host_port}"


@dataclass(frozen=True)
class Front:
    service: str  # the proxy's service name in the file
    upstreams: tuple[Upstream, ...]
    compose_text: str

    def describe(self) -> str:
        return ", ".join(f"{u.binding} -> {u.service}:{u.port}" for u in self.upstreams)


def _published(model: dict, name: str) -> list[Upstream]:
    """Each fixed TCP port the service publishes (compose's default address, every one, kept as "")."""
    service = (model.get("services") or {}).get(name) or {}
    return [Upstream(name, "" if p["host_ip"] == "0.0.0.0" else p["host_ip"], p["published"], int(p["target"]),
                     stop_grace_seconds(service) + TRY_MARGIN_SECONDS)
            for p in published_ports(model) if p["service"] == name and p["published"].isdigit() and p["target"]
            and p["protocol"] == "tcp"]


def _caddyfile(upstreams: list[Upstream]) -> str:
    # The proxy listens on the host port itself inside its container: unique even when two services share
    # a container port. `http://` keeps Caddy from trying HTTPS on a bare port.
    return "\n".join(f"http://:{u.host_port} {{\n  reverse_proxy {u.service}:{u.port} {{\n"
                     f"    lb_try_duration {u.try_seconds:g}s\n    lb_try_interval {TRY_INTERVAL}\n  }}\n}}\n"
                     for u in upstreams)


def propose(model: dict, roles: Roles) -> Front | None:
    """The proxy file for the app services that publish their own port, when the stack has no proxy;
    None when it has one or no app service publishes a fixed port."""
    if roles.proxy:
        return None
    services = model.get("services") or {}
    # A service on the host's network has no address a proxy could reach beside another copy of it.
    upstreams = [u for name in roles.app if name not in roles.single_instance
                 and not (services.get(name) or {}).get("network_mode")
                 for u in _published(model, name)]
    if not upstreams:
        return None
    fronted = sorted({u.service for u in upstreams})
    proxy = SERVICE
    lines = ["services:"]
    for name in fronted:
        # compose's `!reset` drops the ports the app's own files publish: the proxy holds them now.
        lines += [f"  {name}:", "    ports: !reset []"]
    networks = sorted({n for name in fronted for n in (services[name].get("networks") or {"default": None})})
    lines += [f"  {proxy}:", f"    image: {CADDY_IMAGE}", f"    command: {json.dumps(CADDY_COMMAND)}",
              "    restart: unless-stopped", f"    depends_on: {json.dumps(fronted)}",
              f"    networks: {json.dumps(networks)}", "    ports:",
              *(f"      - {json.dumps(f'{u.binding}:{u.host_port}')}" for u in upstreams),
              "    configs:", f"      - source: {proxy}-caddyfile", "        target: /etc/caddy/Caddyfile",
              "configs:", f"  {proxy}-caddyfile:", "    content: |",
              *(f"      {line}" if line else "" for line in _caddyfile(upstreams).splitlines())]
    header = (f"# Proposed by the ops suite's discovery: Caddy in front of {', '.join(fronted)}, holding the\n"
              "# port(s) published there, so a deploy switches them start-first with no failed request\n"
              f"# (docs/DEPLOYMENT_RUNBOOK.md section 9). Add this file last to the stack's compose files ({FILE_NAME}).\n")
    return Front(proxy, tuple(upstreams), header + "\n".join(lines) + "\n")
