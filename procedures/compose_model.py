"""Questions answered from a rendered compose model (a dict), without running anything."""

import re

from .config import OpsConfig
from .errors import ConfigError


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def require_active(model: dict, every_profile: dict, names: list[str]) -> None:
    """Refuse names of services that run only in a profile compose does not turn on (absent from model,
    present in every_profile): naming one in `up` would start it, though plain `docker compose up` never does."""
    services, every = model.get("services") or {}, every_profile.get("services") or {}
    inactive = {name: every[name].get("profiles") or [] for name in names if name not in services and name in every}
    if inactive:
        listed = ", ".join(f"{name} (profiles {', '.join(p)})" for name, p in inactive.items())
        raise ConfigError(f"[services] names {listed}, which run only when their profile is on and COMPOSE_PROFILES "
                          "does not turn it on: a deploy would start them. Remove them from [services] app/proxy, "
                          "or set COMPOSE_PROFILES in the app's .env if they do belong to the serving stack")


def image_repository(image: str) -> str:
    """The image without its tag or digest: ghcr.io/zen-ops/api:1.2 -> ghcr.io/zen-ops/api
    (a registry's port, as in registry:5000/api, stays)."""
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return image[: len(image) - len(last)] + last.split(":", 1)[0]


def built_on_server(model: dict) -> list[str]:
    """The services the app's own files build and name no image for (`build:` with no `image:`)."""
    return sorted(name for name, service in (model.get("services") or {}).items()
                  if service.get("build") and not service.get("image"))


def built_here(model: dict) -> list[str]:
    """The services the app's own files can build (`build:`, whether or not an `image:` names the result):
    what a release built on the server ([build]) builds, and pins to `<project>-<service>:TAG`."""
    return sorted(name for name, service in (model.get("services") or {}).items() if service.get("build"))


def release_image(project: str, service: str, tag: str) -> str:
    """The pinned name of a service's image built on the server: compose's own `<project>-<service>`, at tag."""
    return f"{project}-{service}:{tag}"


def published_ports(model: dict, except_services: tuple[str, ...] = ()) -> list[dict]:
    """Every port the model publishes on the host (service, host address, port), but for except_services."""
    rows = []
    for name, service in sorted((model.get("services") or {}).items()):
        if name in except_services:
            continue
        for port in service.get("ports") or []:
            if port.get("published"):
                rows.append({"service": name, "host_ip": port.get("host_ip") or "0.0.0.0",
                             "published": str(port["published"]), "target": port.get("target"),
                             "protocol": port.get("protocol") or "tcp"})
    return rows


def stop_grace_seconds(service: dict) -> float:
    """compose's stop_grace_period (a Go duration string, or seconds), 10 s when unset: how long a stop
    may take before the engine kills the container."""
    value = str(service.get("stop_grace_period") or "10s")
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", value)
    return sum(float(n) * units[u or "s"] for n, u in parts) or 10.0


def container_ports(service: dict) -> list[int]:
    """The ports a service's container listens on, as its compose file says: published ports' targets,
    then `expose:` (an app reached only through the proxy publishes none)."""
    ports = [int(p["target"]) for p in service.get("ports") or [] if p.get("target")]
    exposed = [int(str(p).split("/")[0].split("-")[0]) for p in service.get("expose") or []]
    return list(dict.fromkeys(ports + exposed))


COMPLETED = "service_completed_successfully"


def one_off_dependencies(model: dict, services: list[str], exclude: tuple[str, ...] = ()) -> list[str]:
    """The one-off services (depended on with condition service_completed_successfully) that the
    given services need, directly or through each other, in the order they must run; refuses a cycle."""
    ordered: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise ConfigError(f"the one-off services depend on each other in a circle: {' -> '.join(visiting + [name])}")
        visiting.append(name)
        for dependency, spec in sorted(((model["services"].get(name) or {}).get("depends_on") or {}).items()):
            if (spec or {}).get("condition") == COMPLETED and dependency not in exclude:
                visit(dependency)
                if dependency not in ordered:
                    ordered.append(dependency)
        visiting.pop()

    for service in services:
        visit(service)
    return ordered


def database_volume(model: dict, config: OpsConfig) -> tuple[str, dict]:
    """The compose key and definition of the volume named as [volumes] database; refuses a model
    without one (whatever key the app's compose file gives it: pgdata, postgres_data, ...)."""
    volumes = model.get("volumes") or {}
    for key, volume in volumes.items():
        if (volume or {}).get("name") == config.volumes.database:
            return key, volume or {}
    names = {key: (volume or {}).get("name") for key, volume in volumes.items()}
    raise ConfigError(
        f"no volume of the compose model is named {config.volumes.database!r} ([volumes] database); it has "
        f"{names or 'none'}. Set [volumes] database to the database volume's real name (docker volume ls), and "
        "declare that volume external with that name in the prod overlay")


def require_external_database_volume(model: dict, config: OpsConfig) -> tuple[str, dict]:
    """The database volume as rendered; refuses one compose may create or remove (not external)."""
    key, volume = database_volume(model, config)
    if volume.get("external") is not True:
        raise ConfigError(
            f"the database volume {key!r} ({config.volumes.database}) is not external: compose could create an "
            "empty one or remove it. Declare it `external: true` with its name in the prod overlay "
            "(docker-compose.prod.yml last)")
    return key, volume


def database_mount(model: dict, config: OpsConfig) -> tuple[str, str]:
    """The compose key of the database volume and where the service holding the database (the db
    service, or for a database file the app service) mounts it, from a rendered model."""
    if not config.services.database:
        return database_file_mount(config, model)
    key = database_volume(model, config)[0]
    db = config.services.database
    target = next((m["target"] for m in model["services"][db].get("volumes") or [] if m.get("source") == key), None)
    if target is None:
        raise ConfigError(f"the {db} service mounts no volume {key!r}; use "
                          "docker-compose.prod.yml as the last compose file")
    return key, target


def database_holder(model: dict, config: OpsConfig) -> str:
    """The service whose container holds the database's volume: [services] database, or (a database
    file, no database service) the first app service that mounts the volume the file lies on."""
    if config.services.database:
        return config.services.database
    key = database_file_mount(config, model)[0]
    return next(name for name in config.services.app
                if any(m.get("source") == key for m in model["services"][name].get("volumes") or []))


def database_file_mount(config: OpsConfig, model: dict) -> tuple[str, str]:
    """The compose key of the named volume [database] file lies on, and where the app service holding
    it mounts it, found by that path (not by the volume's name: a switch renames the volume while the
    app's own files keep theirs); the backup service mounts it at the same place, so [database] file
    is the same path in both."""
    path = config.database.file
    on_it = [(mount["source"], mount["target"]) for name in config.services.app
             for mount in model["services"][name].get("volumes") or []
             if mount.get("type") == "volume" and mount.get("source")
             and path.startswith(mount["target"].rstrip("/") + "/")]
    if not on_it:
        raise ConfigError(f"[database] file = {path!r} is on no named volume of the [services] app services; give "
                          "the file's path as the app service sees it, on the volume it keeps its data on")
    return max(on_it, key=lambda found: len(found[1]))  # the innermost mount holds the file
