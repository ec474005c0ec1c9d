"""What the proxy's own config says of each app service it forwards to: the shared result of the
nginx, Caddy and Traefik readers (proxy_nginx, proxy_caddy, proxy_traefik)."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

RUNBOOK = "docs/DEPLOYMENT_RUNBOOK.md section 9"


@dataclass(frozen=True)
class Upstream:
    """One service the proxy forwards to: its port and, when it cannot switch cleanly, why and the
    exact patch (file, lines) that lets it."""
    service: str
    port: int
    problem: str = ""
    patch: str = ""
    # What may still fail a request when it does switch start-first (not a reason to recreate), with
    # the fix; the patch covers it too.
    advice: str = ""
    # Traefik's own health check is on it: a drained old container leaves its rotation before the stop.
    probed: bool = False


@dataclass(frozen=True)
class ProxyView:
    kind: str  # "nginx", "caddy", "traefik", or "" when the proxy could not be read
    upstreams: dict[str, Upstream] = field(default_factory=dict)
    problem: str = ""  # why the proxy's config could not be read
    refresh_seconds: float = 0.0  # how long the proxy may keep a name's old addresses
    # Keeps idle connections to an upstream's address and reuses them (Caddy, Go's keep-alive pool):
    # a request through it may ride a connection to the old container however long the new one runs.
    reuses_connections: bool = False
    # Finds containers by the engine's events and adds a new one only once it is healthy (Traefik's
    # Docker provider): the switch waits for its health, not for a name's look-up to expire.
    follows_health: bool = False

    def describe(self) -> dict:
        return {"kind": self.kind or "unknown", "problem": self.problem, "refresh_seconds": self.refresh_seconds,
                "reuses_connections": self.reuses_connections, "follows_health": self.follows_health,
                "upstreams": {s: {"port": u.port, "problem": u.problem, "patch": u.patch,
                                  **({"advice": u.advice} if u.advice else {})}
                              for s, u in self.upstreams.items()}}


def host_port(address: str, default_port: int) -> tuple[str, int]:
    parsed = urlsplit(address if "//" in address else f"//{address}")
    return parsed.hostname or "", parsed.port or default_port
