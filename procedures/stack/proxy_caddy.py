"""Caddy's effective config, as its own `caddy adapt` prints it (JSON), judged for a switch: a
`reverse_proxy` without `lb_try_duration` or `lb_retries` gives up on the first refused connection, so a
recreate or a start-first switch fails the requests in flight. The patch names the Caddyfile's line."""

import re

from .proxy_view import RUNBOOK, ProxyView, Upstream, host_port

RETRY_LINES = ("lb_try_duration 5s", "lb_try_interval 250ms")


def _handlers(node) -> list[dict]:
    """Every reverse_proxy handler anywhere in Caddy's JSON config (routes nest in subroutes)."""
    if isinstance(node, dict):
        found = [node] if node.get("handler") == "reverse_proxy" else []
        return found + [h for value in node.values() for h in _handlers(value)]
    if isinstance(node, list):
        return [h for value in node for h in _handlers(value)]
    return []


def _duration(value) -> float:
    """Caddy's durations in JSON: nanoseconds as a number, or a Go duration string."""
    if isinstance(value, (int, float)):
        return value / 1e9
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", str(value or ""))
    return float(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]] if match else 0.0


def retries(handler: dict) -> bool:
    """Whether the handler tries another dial after a refused one: lb_try_duration or lb_retries."""
    balancing = handler.get("load_balancing") or {}
    return _duration(balancing.get("try_duration")) > 0 or int(balancing.get("retries") or 0) > 0


def directive_lines(caddyfile: str, dial: str) -> list[tuple[int, str]]:
    """The Caddyfile's `reverse_proxy` lines that name dial (line number, text): where the patch goes.
    Only to place the patch; whether Caddy retries is read from `caddy adapt`, never from this text."""
    host = host_port(dial, 80)[0]
    return [(number, line.strip()) for number, line in enumerate(caddyfile.splitlines(), 1)
            if re.match(r"\s*reverse_proxy\b", line) and re.search(rf"(^|[\s/]){re.escape(host)}(:\d+)?(\s|$|\{{)", line)]


def patch(caddyfile_path: str, caddyfile: str, dial: str) -> str:
    """The exact lines to add, and where, so the reverse_proxy to dial retries a refused connection."""
    inside = " ".join(f"`{line}`" for line in RETRY_LINES)
    lines = directive_lines(caddyfile, dial) if caddyfile else []
    if not lines:
        return f"in {caddyfile_path}, add {inside} inside the `reverse_proxy {dial}` block"
    where = []
    for number, text in lines:
        if text.endswith("{"):
            where.append(f"after line {number} (`{text}`) add {inside}")
        else:
            where.append(f"replace line {number} `{text}` with `{text} {{` {inside} `}}`")
    return f"in {caddyfile_path}, " + "; ".join(where)


def judge(adapted: dict, services: list[str], caddyfile_path: str = "the Caddyfile", caddyfile: str = "") -> ProxyView:
    """The upstreams among services that Caddy's reverse_proxy handlers reach, each with what would fail a
    switch and the patch that fixes it."""
    upstreams: dict[str, Upstream] = {}
    for handler in _handlers(adapted):
        dials = [u.get("dial", "") for u in handler.get("upstreams", [])]
        dynamic = handler.get("dynamic_upstreams") or {}
        if dynamic.get("name"):
            dials.append(f"{dynamic['name']}:{dynamic.get('port', 80)}")
        for dial in dials:
            host, port = host_port(dial, 80)
            if host not in services or host in upstreams and not upstreams[host].problem:
                continue
            if retries(handler):
                upstreams[host] = Upstream(host, port)
                continue
            fix = patch(caddyfile_path, caddyfile, dial)
            upstreams[host] = Upstream(host, port, (
                f"no retries: Caddy gives up on the first refused connection to {dial} (no `lb_try_duration` or "
                f"`lb_retries`), so requests fail while {host} is switched ({RUNBOOK}); fix: {fix}"), fix)
    # Caddy looks the name up on every new connection (nothing to wait for), and keeps the ones it has.
    return ProxyView("caddy", upstreams, reuses_connections=True)
