"""Whether the reverse proxy moves requests from an old container of a service to a new one without
failing any: read from the proxy's own effective config, as its own tool prints it (`nginx -T`,
`caddy adapt`) inside the running proxy container, so included files and configs baked into the
image count too.

A switch without failed requests needs two things of the proxy: it finds the new container by name
while it runs (nginx resolves a name written in `proxy_pass` once, at start), and it retries a
refused connection on the other container (Caddy gives up at once without `lb_try_duration`).
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .. import runner
from ..commands import docker as docker_cmd
from ..errors import CommandFailed

RUNBOOK = "docs/DEPLOYMENT_RUNBOOK.md section 9"
# Longer than this between nginx's look-ups of a name, and the old container's address is used
# long after it is gone (Docker's DNS answers carry a 600 s TTL, which nginx keeps without valid=).
MAX_RESOLVER_VALID_SECONDS = 30
DEFAULT_CADDYFILE = "/etc/caddy/Caddyfile"


@dataclass(frozen=True)
class Upstream:
    """One service the proxy forwards to: its port and, when it cannot switch cleanly, why."""
    service: str
    port: int
    problem: str = ""


@dataclass(frozen=True)
class ProxyView:
    kind: str  # "nginx", "caddy", or "" when the proxy could not be read
    upstreams: dict[str, Upstream] = field(default_factory=dict)
    problem: str = ""  # why the proxy's config could not be read
    refresh_seconds: float = 0.0  # how long the proxy may keep a name's old addresses
    # Keeps idle connections to an upstream's address and reuses them (Caddy, Go's keep-alive pool):
    # a request through it may ride a connection to the old container however long the new one runs.
    reuses_connections: bool = False

    def describe(self) -> dict:
        return {"kind": self.kind or "unknown", "problem": self.problem, "refresh_seconds": self.refresh_seconds,
                "reuses_connections": self.reuses_connections,
                "upstreams": {s: {"port": u.port, "problem": u.problem} for s, u in self.upstreams.items()}}


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    parsed = urlsplit(address if "//" in address else f"//{address}")
    return parsed.hostname or "", parsed.port or default_port


# ---------------------------------------------------------------- nginx


def _nginx_statements(text: str) -> list[list[str]]:
    """Each directive of an `nginx -T` dump as its words ("upstream x {" included as a statement)."""
    text = re.sub(r"(?m)^\s*#.*$|(?<=\s)#.*$", "", text)
    return [part.split() for part in re.split(r"[;{}]", text) if part.split()]


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", value).groups()
    return int(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[unit]


def judge_nginx(dump: str, services: list[str]) -> ProxyView:
    """The upstreams among services that nginx's `proxy_pass` reaches, each with what would fail a switch."""
    statements = _nginx_statements(dump)
    variables = {words[1]: words[2] for words in statements if words[0] == "set" and len(words) >= 3}
    resolvers = [words for words in statements if words[0] == "resolver"]
    valid = [_seconds(w.split("=", 1)[1]) for words in resolvers for w in words if w.startswith("valid=")]
    retries_off = any(words[:2] == ["proxy_next_upstream", "off"] for words in statements)
    upstreams: dict[str, Upstream] = {}
    for words in statements:
        if words[0] != "proxy_pass" or len(words) < 2:
            continue
        target = words[1]
        through_variable = "$" in target
        for name, value in variables.items():
            target = target.replace(name, value)
        host, port = _host_port(target, 80)
        if host not in services or host in upstreams:
            continue
        if not through_variable:
            problem = (f"static upstream: nginx resolves {host!r} once, at its start (`proxy_pass {words[1]}`), "
                       f"and keeps sending to a removed container; put the address in a variable with a "
                       f"resolver: `resolver 127.0.0.11 valid=5s;` `set $upstream {target};` "
                       f"`proxy_pass $upstream;` ({RUNBOOK})")
        elif not resolvers:
            problem = f"no `resolver` for the variable upstream {words[1]}: add `resolver 127.0.0.11 valid=5s;` ({RUNBOOK})"
        elif not valid or max(valid) > MAX_RESOLVER_VALID_SECONDS:
            problem = (f"`resolver` without a short `valid=`: nginx keeps {host!r}'s old address for the DNS "
                       f"answer's TTL (600 s from Docker); add `valid=5s` ({RUNBOOK})")
        elif retries_off:
            problem = (f"`proxy_next_upstream off`: a refused connection to the old container is not retried "
                       f"on the new one; remove it (the default retries on `error timeout`) ({RUNBOOK})")
        else:
            problem = ""
        upstreams[host] = Upstream(host, port, problem)
    return ProxyView("nginx", upstreams, refresh_seconds=max(valid, default=0.0))


# ---------------------------------------------------------------- Caddy


def _caddy_handlers(node) -> list[dict]:
    """Every reverse_proxy handler anywhere in Caddy's JSON config (routes nest in subroutes)."""
    if isinstance(node, dict):
        found = [node] if node.get("handler") == "reverse_proxy" else []
        return found + [h for value in node.values() for h in _caddy_handlers(value)]
    if isinstance(node, list):
        return [h for value in node for h in _caddy_handlers(value)]
    return []


def _try_duration(value) -> float:
    """Caddy's durations in JSON: nanoseconds as a number, or a Go duration string."""
    if isinstance(value, (int, float)):
        return value / 1e9
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", str(value or ""))
    return float(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]] if match else 0.0


def judge_caddy(adapted: dict, services: list[str]) -> ProxyView:
    """The upstreams among services that Caddy's reverse_proxy handlers reach, each with what would fail a switch."""
    upstreams: dict[str, Upstream] = {}
    for handler in _caddy_handlers(adapted):
        dials = [u.get("dial", "") for u in handler.get("upstreams", [])]
        dynamic = handler.get("dynamic_upstreams") or {}
        if dynamic.get("name"):
            dials.append(f"{dynamic['name']}:{dynamic.get('port', 80)}")
        try_seconds = _try_duration((handler.get("load_balancing") or {}).get("try_duration"))
        for dial in dials:
            host, port = _host_port(dial, 80)
            if host not in services or host in upstreams and not upstreams[host].problem:
                continue
            problem = "" if try_seconds > 0 else (
                f"no retries: Caddy gives up on the first refused connection to {dial}; add `lb_try_duration 5s` "
                f"to that `reverse_proxy` block ({RUNBOOK})")
            upstreams[host] = Upstream(host, port, problem)
    # Caddy looks the name up on every new connection (nothing to wait for), and keeps the ones it has.
    return ProxyView("caddy", upstreams, reuses_connections=True)


# ---------------------------------------------------------------- the running proxy


def _config_path(container: str) -> str:
    """The Caddyfile the container runs with: its command's --config, else Caddy's default."""
    command = json.loads(runner.run(docker_cmd.container_command(container), limit="command").stdout or "null") or []
    for i, word in enumerate(command[:-1]):
        if word == "--config":
            return command[i + 1]
    return DEFAULT_CADDYFILE


def read(proxy_container: str, services: list[str]) -> ProxyView:
    """The running proxy's view of services, from its own tool; kind "" when neither nginx nor Caddy answers."""
    try:
        nginx = runner.run(docker_cmd.exec_in(proxy_container, ["nginx", "-T"]), limit="command", check=False)
        if nginx.returncode == 0:
            return judge_nginx(nginx.stdout, services)
        caddy = runner.run(docker_cmd.exec_in(proxy_container, [
            "caddy", "adapt", "--config", _config_path(proxy_container), "--adapter", "caddyfile"]), limit="command", check=False)
        if caddy.returncode == 0:
            return judge_caddy(json.loads(caddy.stdout), services)
    except (CommandFailed, ValueError) as e:
        return ProxyView("", problem=f"its config could not be read: {e}")
    return ProxyView("", problem="neither `nginx -T` nor `caddy adapt` answered in the proxy container: "
                                 "the suite cannot tell whether it retries on the new container")
