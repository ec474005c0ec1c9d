"""Data an app service keeps in a host directory (a bind mount): no volume backup sees it."""

import posixpath

# Host paths mounted for what they are, not for data the app writes.
_NOT_DATA = ("/var/run/docker.sock", "/run/docker.sock", "/etc/localtime", "/etc/timezone")


def bind_mounted_data(model: dict, services: list[str]) -> list[dict]:
    """The writable bind mounts of the given services: service, host path and where the service sees it.
    Read-only binds are configuration (a proxy's config file), and sockets are not data."""
    found = []
    for name in services:
        for mount in (model.get("services") or {}).get(name, {}).get("volumes") or []:
            if not isinstance(mount, dict) or mount.get("type") != "bind" or mount.get("read_only"):
                continue
            source = mount.get("source") or ""
            if source in _NOT_DATA or posixpath.basename(source).endswith(".sock"):
                continue
            found.append({"service": name, "source": source, "target": mount.get("target")})
    return found
