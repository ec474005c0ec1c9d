"""Whether the reverse proxy moves requests from an old container of a service to a new one without
failing any: read from the proxy's own effective config, as its own tool prints it (`nginx -T`,
`caddy adapt`) inside the running proxy container, so included files and configs baked into the
image count too; Traefik's Docker provider from the labels it reads (the rendered compose model).

A switch without failed requests needs two things of the proxy: it finds the new container while it
runs (nginx resolves a name written in `proxy_pass` or an `upstream` block once, at start), and it
retries a refused connection on the other container (Caddy gives up at once without
`lb_try_duration`, Traefik without a `retry` middleware). The readers: proxy_nginx (crossplane over
`nginx -T`), proxy_caddy, proxy_traefik.
"""

import json

from .. import docker_api, runner
from ..commands import proxy as proxy_cmd
from ..errors import CommandFailed
from . import proxy_caddy, proxy_nginx, proxy_traefik
from .proxy_view import ProxyView

DEFAULT_CADDYFILE = "/etc/caddy/Caddyfile"


def _config_path(container: str) -> str:
    """The Caddyfile the container runs with: its command's --config, else Caddy's default."""
    command = docker_api.container_command(container)
    for i, word in enumerate(command[:-1]):
        if word == "--config":
            return command[i + 1]
    return DEFAULT_CADDYFILE


def _run(argv: list[str]):
    return runner.run(argv, limit="command", check=False)


def _caddy(container: str, services: list[str]) -> ProxyView | None:
    path = _config_path(container)
    adapted = _run(proxy_cmd.caddy_adapt(container, path))
    if adapted.returncode != 0:
        return None
    text = _run(proxy_cmd.read_file(container, path))  # only to say on which line a patch goes
    return proxy_caddy.judge(json.loads(adapted.stdout), services, path, text.stdout if text.returncode == 0 else "")


def read(proxy_container: str, services: list[str], model: dict | None = None,
         compose_file: str = "the compose file", ready_path: str | None = None) -> ProxyView:
    """The running proxy's view of services, from its own tool (Traefik: from model's labels, the
    rendered compose model, its health-check patch on ready_path when known); kind "" when none of
    nginx, Caddy and Traefik answers."""
    try:
        nginx = _run(proxy_cmd.nginx_dump(proxy_container))
        if nginx.returncode == 0:
            return proxy_nginx.judge_dump(nginx.stdout, services)
        caddy = _caddy(proxy_container, services)
        if caddy is not None:
            return caddy
        if model is not None and _run(proxy_cmd.traefik_version(proxy_container)).returncode == 0:
            return proxy_traefik.judge(model, services, compose_file, ready_path)
    except (CommandFailed, ValueError) as e:
        return ProxyView("", problem=f"its config could not be read: {e}")
    return ProxyView("", problem="none of `nginx -T`, `caddy adapt` and `traefik version` answered in the proxy "
                                 "container: the suite cannot tell whether it retries on the new container")
