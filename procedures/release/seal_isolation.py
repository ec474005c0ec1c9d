"""What a rehearsal service must not keep from the app's file because it loosens the container's
isolation from the host: a privileged container, the host's namespaces, devices, added
capabilities, security options that switch a confinement off, and any bind mount through which
the Docker API is reached (a read-only socket mount still lets the container call the API, and a
mount of a folder holding the socket is the same). Pure: reads a rendered service, returns the
overlay's lines and the names of what was dropped, for the evidence.
"""

import json
import posixpath

# Key -> the overlay's reset. Namespace keys (pid, ipc, uts, userns_mode, cgroup) reset to the
# container's own namespace; `service:x` / `container:x` would join a live container's.
_RESET = {"privileged": "false", "pid": "null", "ipc": "null", "uts": "null", "userns_mode": "null",
          "cgroup": "null", "cgroup_parent": "null", "devices": "[]", "device_cgroup_rules": "[]",
          "cap_add": "[]"}
_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
# security_opt values that turn a confinement off; others (no-new-privileges, a profile of one's own,
# an SELinux level) tighten it and are kept.
_UNCONFINED = {"seccomp": {"unconfined"}, "apparmor": {"unconfined"}, "systempaths": {"unconfined"},
               "label": {"disable", "type:spc_t"}, "no-new-privileges": {"false"}}


def loosens(option: str) -> bool:
    """Whether a security_opt entry (`kind=value` or `kind:value`) switches a confinement off."""
    kind, _, value = option.replace("=", ":", 1).partition(":")
    return value.strip().lower() in _UNCONFINED.get(kind.strip().lower(), ())


def reaches_docker_api(mount: dict) -> bool:
    """Whether a bind mount's source is the Docker socket or a folder that holds it."""
    if mount.get("type") != "bind" or not mount.get("source"):
        return False
    source = posixpath.normpath(mount["source"])
    return any(socket == source or socket.startswith(source.rstrip("/") + "/") for socket in _SOCKETS)


def isolation_lines(service: dict) -> tuple[list[str], list[str]]:
    """The overlay's lines that give a rehearsal service its own isolation back, and what they drop."""
    lines, dropped = [], []
    for key, empty in _RESET.items():
        if service.get(key):
            lines.append(f"    {key}: !reset {empty}")
            dropped.append(f"{key}: {json.dumps(service[key])}")
    options = service.get("security_opt") or []
    loose = [o for o in options if loosens(o)]
    if loose:
        lines.append(f"    security_opt: !override {json.dumps([o for o in options if not loosens(o)])}")
        dropped += [f"security_opt: {o}" for o in loose]
    return lines, dropped
