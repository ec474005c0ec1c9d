"""Questions answered from a rendered compose model (a dict), without running anything."""

from .config import OpsConfig
from .errors import ConfigError


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def image_repository(image: str) -> str:
    """The image without its tag or digest: ghcr.io/zen-ops/api:1.2 -> ghcr.io/zen-ops/api
    (a registry's port, as in registry:5000/api, stays)."""
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return image[: len(image) - len(last)] + last.split(":", 1)[0]


def published_ports(model: dict, except_services: tuple[str, ...] = ()) -> list[dict]:
    """Every port the model publishes on the host (service, host address, port), but for except_services."""
    rows = []
    for name, service in sorted((model.get("services") or {}).items()):
        if name in except_services:
            continue
        for port in service.get("ports") or []:
            if port.get("published"):
                rows.append({"service": name, "host_ip": port.get("host_ip") or "0.0.0.0",
                             "published": str(port["published"]), "target": port.get("target")})
    return rows


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
    key = database_volume(model, config)[0]
    holder = database_holder(model, config)
    target = next((m["target"] for m in model["services"][holder].get("volumes") or [] if m.get("source") == key), None)
    if target is None:
        raise ConfigError(f"the {holder} service mounts no volume {key!r}; use "
                          "docker-compose.prod.yml as the last compose file")
    return key, target


def database_holder(model: dict, config: OpsConfig) -> str:
    """The service whose container holds the database's volume: [services] database, or (a database
    file, no database service) the first app service that mounts the [volumes] database volume."""
    if config.services.database:
        return config.services.database
    key = database_volume(model, config)[0]
    for name in config.services.app:
        if any(m.get("source") == key for m in model["services"][name].get("volumes") or []):
            return name
    raise ConfigError(f"no [services] app service mounts the database's volume {config.volumes.database!r}; "
                      "name the app service that holds the database file in [services] app")


def database_file_mount(config: OpsConfig, model: dict) -> tuple[str, str]:
    """The database volume's compose key and where the app service holding the file mounts it; the
    backup service mounts it at the same place, so [database] file is the same path in both."""
    key, target = database_mount(model, config)
    path = config.database.file
    if not path.startswith(target.rstrip("/") + "/"):
        raise ConfigError(f"[database] file = {path!r} is not on the volume {config.volumes.database!r}, mounted at "
                          f"{target}; give the file's path as the app service sees it")
    return key, target
