"""Argv of the proxy's own tools, run inside its container: each prints the config the proxy runs with."""

from . import docker


def nginx_dump(container: str) -> list[str]:
    """Every file of nginx's config, includes too, as nginx itself reads them."""
    return docker.exec_in(container, ["nginx", "-T"])


def caddy_adapt(container: str, caddyfile: str) -> list[str]:
    """The Caddyfile as Caddy's own JSON config."""
    return docker.exec_in(container, ["caddy", "adapt", "--config", caddyfile, "--adapter", "caddyfile"])


def read_file(container: str, path: str) -> list[str]:
    return docker.exec_in(container, ["cat", path])


def traefik_version(container: str) -> list[str]:
    return docker.exec_in(container, ["traefik", "version"])
