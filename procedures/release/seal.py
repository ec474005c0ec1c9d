"""The rehearsal's seal: the overlay that cuts a throwaway compose project off from the live stack
and from the world, whatever the app's own files say.

- One network, the rehearsal's own (`<project>_sealed`, the project carries the reserved throwaway
  prefix), `internal: true` and with no address on the host's side of its bridge: on Docker 20.10 a
  container on a plain internal network still reached a listener on the host (via the docker0
  address, through its default route); with `inhibit_ipv4` the bridge has no host address, so
  nothing on the host can be dialled. Every service joins only it, without aliases; whatever shares a
  name or a namespace with a live container (network_mode, links, external_links, extra_hosts,
  container_name, hostname, volumes_from) is reset, and no port is published.
- Nothing loosens the container's isolation from the host (release/seal_isolation.py): privileged,
  the host's namespaces, devices, added capabilities and unconfining security options are reset,
  and a bind mount of the Docker socket (or of a folder holding it) is dropped; the evidence names
  each thing dropped.
- Every named volume is one the rehearsal created (reserved prefix, drill label) and removes
  afterwards: the restored database and uploads, and an empty one for each other key, so a volume
  with a fixed `name:` or `external: true` in the app's file is never mounted. An anonymous volume
  becomes a tmpfs (compose would leave it behind), and so would the anonymous volume the engine
  makes for each VOLUME an image declares where the file mounts nothing: a throwaway volume of the
  rehearsal's own is mounted there instead (the image's content is copied into it, as into an
  anonymous one). Bind mounts are read-only: the rehearsal reads
  the app's host files but never writes into live host paths.
- A probe service (the suite's own backup image, idle) on the same network asks the app's readiness
  and smoke endpoints from inside, since the host has no route in.
- [deploy.rehearsal] environment, then the rehearsal's database URL, override the services' env.

The overlay is YAML (compose's !reset and !override tags have no JSON form); values are written as
JSON, which YAML reads as flow collections.
"""

import json
from dataclasses import dataclass

from .seal_isolation import isolation_lines, reaches_docker_api

PROBE_SERVICE = "opsuite-rehearsal-probe"
SEALED_NETWORK_OPTIONS = {"com.docker.network.bridge.inhibit_ipv4": "true"}
# Keys that could share a name, an address or a namespace with a live container, or publish a port.
_RESET = {"container_name": "null", "hostname": "null", "domainname": "null", "network_mode": "null",
          "ports": "[]", "links": "[]", "external_links": "[]", "extra_hosts": "[]", "volumes_from": "[]"}


@dataclass(frozen=True)
class Seal:
    text: str
    network: str
    volumes: dict[str, str]  # compose key -> the throwaway volume the rehearsal must create
    read_only_binds: tuple[str, ...]  # "service:target" of the app's bind mounts, made read-only
    environment: tuple[str, ...]  # the variable names set from [deploy.rehearsal] environment
    dropped: tuple[str, ...] = ()  # "service: what" the seal took away that loosened isolation


def network_name(project: str) -> str:
    return f"{project}_sealed"


def volume_name(project: str, key: str) -> str:
    return f"{project}-vol-{key}"


def image_volume_key(service: str, index: int) -> str:
    return f"opsuite-image-{service}-{index}"


def _mounts(service: str, mounts: list[dict], declared: tuple[str, ...], binds: list[str],
            dropped: list[str]) -> tuple[list[dict], dict[str, str]]:
    """The service's mounts in the rehearsal, and the volume key of each image-declared path that the
    file leaves unmounted (key -> path), which gets a throwaway volume of its own."""
    kept = []
    for mount in mounts:
        if reaches_docker_api(mount):
            dropped.append(f"{service}: bind mount of {mount['source']} (reaches the Docker API)")
        else:
            kept.append(_mount(service, mount, binds))
    targets = {m.get("target", "").rstrip("/") for m in kept}
    unmounted = [path for path in declared if path.rstrip("/") not in targets]
    extra = {image_volume_key(service, i): path for i, path in enumerate(unmounted)}
    kept += [{"type": "volume", "source": key, "target": path} for key, path in extra.items()]
    return kept, extra


def _mount(service: str, mount: dict, binds: list[str]) -> dict:
    if mount.get("type") == "bind":
        binds.append(f"{service}:{mount.get('target')}")
        return {**mount, "read_only": True, "bind": {**(mount.get("bind") or {}), "create_host_path": False}}
    if mount.get("type") == "volume" and not mount.get("source"):
        return {"type": "tmpfs", "target": mount["target"]}
    return mount


def seal(model: dict, project: str, *, own_volumes: dict[str, str], environment: dict[str, str],
         service_env: dict[str, dict[str, str]], skip_env: set[str], probe_image: str, labels: dict[str, str],
         extra_services: dict[str, dict] | None = None, image_volumes: dict[str, tuple[str, ...]] | None = None,
         ) -> Seal:
    """The sealed overlay of model (rendered with every profile) for the rehearsal project. own_volumes:
    the compose keys the rehearsal already fills (restored database, uploads) -> their volumes; every
    other named volume gets an empty throwaway of its own. service_env: variables per service (the
    rehearsal's database URL); environment goes to every service not in skip_env. image_volumes: the
    VOLUME paths each service's images declare (the probe's under PROBE_SERVICE)."""
    network = network_name(project)
    services = {**(model.get("services") or {}), **(extra_services or {})}
    volumes = {key: own_volumes.get(key) or volume_name(project, key) for key in sorted(model.get("volumes") or {})}
    for service in (extra_services or {}).values():
        for mount in service.get("volumes") or []:
            if mount.get("type") == "volume" and mount.get("source") and mount["source"] not in volumes:
                volumes[mount["source"]] = own_volumes.get(mount["source"]) or volume_name(project, mount["source"])
    declared = image_volumes or {}
    binds: list[str] = []
    dropped: list[str] = []
    lines = ["services:"]
    for name, service in sorted(services.items()):
        lines.append(f"  {json.dumps(name)}:")
        if name in (extra_services or {}):
            lines += [f"    {key}: {json.dumps(value)}" for key, value in service.items() if key != "volumes"]
        lines += [f"    {key}: !reset {empty}" for key, empty in _RESET.items() if service.get(key)]
        loose, what = isolation_lines(service)
        lines += loose
        dropped += [f"{name}: {w}" for w in what]
        lines.append('    networks: !override ["default"]')
        if name not in (extra_services or {}):
            # The app's labels are read by other containers on the host: a live Traefik would route live
            # requests to the rehearsal, an ofelia run its jobs, a watchtower update it. Only the suite's.
            lines.append(f"    labels: !override {json.dumps(labels)}")
        if service.get("volumes") or declared.get(name):
            mounts, extra = _mounts(name, service.get("volumes") or [], declared.get(name, ()), binds, dropped)
            volumes.update({key: volume_name(project, key) for key in extra})
            lines.append(f"    volumes: !override {json.dumps(mounts)}")
        env = {**({} if name in skip_env else environment), **service_env.get(name, {})}
        if env:
            lines.append(f"    environment: {json.dumps(env)}")
    lines += [f"  {json.dumps(PROBE_SERVICE)}:", f"    image: {json.dumps(probe_image)}",
              '    entrypoint: ["sleep", "infinity"]', "    read_only: true", '    restart: "no"',
              '    networks: ["default"]', f"    labels: {json.dumps(labels)}"]
    probe_mounts, extra = _mounts(PROBE_SERVICE, [], declared.get(PROBE_SERVICE, ()), binds, dropped)
    volumes.update({key: volume_name(project, key) for key in extra})
    if probe_mounts:
        lines.append(f"    volumes: {json.dumps(probe_mounts)}")
    sealed = {"name": network, "driver": "bridge", "internal": True, "driver_opts": SEALED_NETWORK_OPTIONS,
              "labels": labels}
    lines.append(f"networks: !override {json.dumps({'default': sealed})}")
    if volumes:
        lines.append(f"volumes: !override {json.dumps({k: {'external': True, 'name': v} for k, v in volumes.items()})}")
    created = {k: v for k, v in volumes.items() if v not in own_volumes.values()}
    return Seal("\n".join(lines) + "\n", network, created, tuple(binds), tuple(sorted(environment)), tuple(dropped))
