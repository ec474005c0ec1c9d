"""The names a stack's config gives the suite (project, environment, services, volumes, paths, the
remote, the TAG), registered with the redactor so a short secret's value is never masked inside them."""

from .config import OpsConfig
from .redact import register_identifier


def config_identifiers(cfg: OpsConfig, tag: str | None = None) -> list[str]:
    """Every name the config validates or the suite builds from it, as it appears in evidence."""
    stack, volumes, services = cfg.stack, cfg.volumes, cfg.services
    keys = [volumes.backups, volumes.uploads, volumes.rclone_config]
    paths = [*stack.compose_files, stack.env_file, stack.overlay, cfg.source]
    names = [stack.project, stack.environment, stack.lock_dir, cfg.deploy.state_dir, cfg.backup.directory,
             cfg.backup.uploads_path, volumes.database, volumes.uploads_volume, *keys,
             *(f"{stack.project}_{key}" for key in keys if key),
             services.database, *services.app, services.proxy, services.migrate, services.backup,
             cfg.offsite.remote, cfg.offsite.path(stack.environment), tag,
             *(str(p) for p in paths if p is not None)]
    return sorted({n for n in names if n})


def register_config_identifiers(cfg: OpsConfig, tag: str | None = None) -> None:
    for name in config_identifiers(cfg, tag):
        register_identifier(name)
