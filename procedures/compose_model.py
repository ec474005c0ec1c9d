"""Questions answered from a rendered compose model (a dict), without running anything."""

from .config import OpsConfig
from .errors import ConfigError


def database_mount(model: dict, config: OpsConfig) -> tuple[str, str]:
    """The compose key of the database volume and where the db service mounts it, from a rendered model."""
    key = next((k for k, v in (model.get("volumes") or {}).items() if (v or {}).get("name") == config.volumes.database),
               "pgdata")
    db = model["services"][config.services.database]
    target = next((m["target"] for m in db.get("volumes") or [] if m.get("source") == key), None)
    if target is None:
        raise ConfigError(f"the {config.services.database} service mounts no volume {key!r}; use "
                          "docker-compose.prod.yml as the last compose file")
    return key, target
