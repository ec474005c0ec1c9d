"""The suite's compose overlay for a stack it did not create, generated from the ops config.

The app's own files stay as they are; the overlay goes last ([stack] overlay) and changes only
what the hard rules need, each taken from the config and the app's rendered model, never from a
name the suite assumes:
- the app services (and the app's own migrate service) run `<their image repository>:${TAG}`, and
  every service built on the server (`build:` with no `image:`; with [build], every `build:`)
  `<project>-<service>:${TAG}`, the name `deploy` builds it under (release/build.py): rendering fails
  without an explicit TAG; services outside the release keep one config across releases (TAG pinned
  empty where the app's .env hands it to them);
- the database volume is external under its real name: compose can neither create an empty one
  nor remove it; so are the suite's backups and rclone config volumes and the app's uploads;
- app services that migrate on start get the switch off or the command without the migration
  ([deploy] app_environment, app_commands): the suite migrates as a one-off after a verified backup;
- long-running services get a restart policy and log rotation where the app sets none, and the
  database a healthcheck where it has none;
- the suite's backup service carries the reserved `opsuite-` prefix (it can never merge into the
  app's own `backup`), joins the database's networks (for a database outside the stack, those of the
  app service holding its URL) and the project's default network (the route out to the remote), and mounts the suite's own volumes and the uploads read-only. Database credentials reach it when it starts, never through this file.

It is rewritten whenever the config or the app's files change what it says; it is written as
JSON, which compose reads as YAML, so the suite needs no YAML library for it (the one YAML word in it:
`!reset null`, for a volume setting the app's file gave that an external volume cannot keep).
"""

import json
from pathlib import Path

from .commands import compose as compose_cmd
from .compose import inputs, rendered_model
from .compose_model import built_here, built_on_server, database_file_mount, database_holder, image_repository, release_image
from .config import VOLUME_VARIABLES, OpsConfig, StackConfig
from .engines.targets import VOLUME
from .errors import CommandFailed, ConfigError
from .private_files import write_private

TAG_REQUIRED = "${TAG:?TAG is required: set TAG to the release version to deploy, e.g. TAG=1.1.0 (never latest)}"
LOGGING = {"driver": "json-file", "options": {"max-size": "10m", "max-file": "5"}}
RCLONE_CONFIG_DIR = "/config/rclone"
# Compose refuses an external volume that keeps the driver, options or labels the app's file gave it
# (`driver: local` is common): the overlay resets them with YAML's !reset, written in for this marker.
_RESET = "\u0000opsuite-reset"
_written: dict[Path, str] = {}


def _external(model: dict, key: str, name: str) -> dict:
    declared = (model.get("volumes") or {}).get(key) or {}
    return {"external": True, "name": name,
            **{setting: _RESET for setting in ("driver", "driver_opts", "labels") if declared.get(setting)}}


def render_app_model(stack: StackConfig, tag: str | None) -> dict:
    """The app's own files rendered with every profile, as compose sees them without the suite."""
    app_only = StackConfig(stack.project, stack.app_files, stack.env_file)
    try:
        return rendered_model(compose_cmd.config_json_every_profile(app_only), {"TAG": tag} if tag else {},
                              inputs(app_only))
    except CommandFailed as e:
        raise ConfigError(f"the app's compose files do not render; compose says:\n{e.stderr_tail}\nFix the file it "
                          "names ([stack] compose_files), then run again") from e


def _require_services(config: OpsConfig, services: dict) -> None:
    names = config.services
    wanted = {"database": [names.database] if names.database else [], "app": list(names.app), "proxy": [names.proxy] if names.proxy else [],
              "migrate": [names.migrate] if names.migrate else []}
    for key, listed in wanted.items():
        missing = [n for n in listed if n not in services]
        if missing:
            raise ConfigError(f"[services] {key}: {', '.join(missing)} is not a service of the app's compose files "
                              f"(they have {', '.join(sorted(services))}); fix [services] {key}")
    if names.backup in services:
        raise ConfigError(f"[services] backup = {names.backup!r} is already a service of the app's compose files; "
                          "the suite's backup service needs a name of its own (opsuite-backup)")


def database_volume_key(config: OpsConfig, model: dict, data_directory: str) -> str:
    """The compose key of the named volume the database service keeps its data on."""
    db = model["services"][config.services.database]
    named = [m for m in db.get("volumes") or [] if m.get("type") == "volume" and m.get("source")]
    at_data = [m for m in named if data_directory == m["target"] or data_directory.startswith(m["target"].rstrip("/") + "/")]
    chosen = at_data or (named if len(named) == 1 else [])
    if len(chosen) != 1:
        raise ConfigError(
            f"the {config.services.database} service keeps its data ({data_directory}) on no single named volume "
            f"(its named volumes: {[m['source'] for m in named] or 'none'}). Mount the data directory from a named "
            "volume in the app's compose file; a bind mount or an anonymous volume cannot be made safe")
    return chosen[0]["source"]


def _suite_volume(config: OpsConfig, model: dict, setting: str) -> str:
    key = getattr(config.volumes, setting)
    if key in (model.get("volumes") or {}):
        raise ConfigError(f"[volumes] {setting} = {key!r} is a volume of the app's compose files; the suite's own "
                          f"volume needs a name of its own, e.g. \"opsuite_{setting}\"")
    return key


def _long_running(service: dict) -> dict:
    """Restart policy and log rotation, only where the app sets none."""
    added = {}
    if service.get("restart") in (None, "", "no"):
        added["restart"] = "unless-stopped"
    if not service.get("logging"):
        added["logging"] = LOGGING
    return added


def _without_start_migrations(config: OpsConfig, service: str) -> dict:
    """[deploy] app_environment and app_commands: the app starts without migrating (the suite's one-off does)."""
    added = {}
    if config.deploy.app_environment:
        added["environment"] = dict(config.deploy.app_environment)
    command = dict(config.deploy.app_commands).get(service)
    if command:
        added["command"] = list(command)
    return added


def _release_variable_pinned(config: OpsConfig, services: dict, out: dict[str, dict]) -> None:
    """A service outside the release that reads the app's .env whole (`env_file: .env`, as the template's
    database does) carries the TAG the suite writes there: each release would change its config and compose
    would recreate it (the database stopped mid-deploy). There TAG is pinned empty; the release's own
    services keep it."""
    release = {*config.services.app, config.services.migrate}
    for name, service in services.items():
        if name not in release and "TAG" in (service.get("environment") or {}):
            out.setdefault(name, {}).setdefault("environment", {})["TAG"] = ""


def overlay_model(config: OpsConfig, model: dict, engine) -> dict:
    """The overlay as a compose model, from the config and the app's rendered model."""
    services = model.get("services") or {}
    _require_services(config, services)
    names = config.services
    out: dict[str, dict] = {}
    volumes: dict[str, dict] = {}
    file_mount = None  # (compose key, where) of the volume holding a database file, which the backup mounts
    if engine.server_services(config):
        db = services[names.database]
        db_overlay = _long_running(db)
        if not db.get("healthcheck") or db["healthcheck"].get("disable"):
            db_overlay["healthcheck"] = engine.healthcheck(db.get("environment") or {})
        out[names.database] = db_overlay
        volume_key = database_volume_key(config, model, engine.data_directory(db.get("environment") or {}))
        # PGDATA_VOLUME is what a volume switch sets for the run it makes; the config's name otherwise.
        volumes[volume_key] = _external(model, volume_key,
                                        f"${{{VOLUME_VARIABLES['database']}:-{config.volumes.database}}}")
        # The backup service reaches the database where the database service listens...
        reaching = db
    elif engine.data_place == VOLUME:
        # ... or, for a database file, on the app service's volume, which it mounts where the app does.
        file_mount = volume_key, at = database_file_mount(config, model)
        volumes[volume_key] = _external(model, volume_key,
                                        f"${{{VOLUME_VARIABLES['database']}:-{config.volumes.database}}}")
        reaching = services[database_holder(model, config)]
    else:
        # ... or, for a database outside the stack, where the app that holds its URL does.
        reaching = services[config.url_service]
    for name in (built_here(model) if config.build else built_on_server(model)):
        out[name] = {"image": release_image(config.stack.project, name, TAG_REQUIRED)}
    for name in (*names.app, *([names.migrate] if names.migrate else [])):
        image = services[name].get("image")
        if not image and not services[name].get("build"):
            raise ConfigError(f"the app service {name} names no image and builds none; give it `image:` (or "
                              "`build:`) so a release can be pinned by TAG")
        pinned = out.get(name) or {"image": f"{image_repository(image)}:{TAG_REQUIRED}"}
        out[name] = pinned if name == names.migrate else {**pinned, **_long_running(services[name]),
                                                          **_without_start_migrations(config, name)}
    if names.proxy:
        out[names.proxy] = _long_running(services[names.proxy])
    _release_variable_pinned(config, services, out)

    backups, rclone = _suite_volume(config, model, "backups"), _suite_volume(config, model, "rclone_config")
    mounts = [f"{backups}:{config.backup.directory}", f"{rclone}:{RCLONE_CONFIG_DIR}"]
    if file_mount:
        volume_key, at = file_mount
        if at in (config.backup.directory, RCLONE_CONFIG_DIR, config.backup.uploads_path):
            raise ConfigError(f"the database file's volume is mounted at {at}, where the backup service keeps its "
                              "own; set [backup] directory or uploads_path elsewhere")
        mounts.append(f"{volume_key}:{at}")  # read-write: SQLite's readers of a WAL database share its -shm
    # Every volume holding data is external, so no `docker compose down -v` can remove it: the suite's
    # own under <project>_<key>, the app's uploads under the name compose already gave it.
    data_volumes = {backups: {"external": True, "name": f"{config.stack.project}_{backups}"},
                    rclone: {"external": True, "name": f"{config.stack.project}_{rclone}"}}
    uploads = config.volumes.uploads
    if uploads:
        declared = (model.get("volumes") or {}).get(uploads)
        if declared is None:
            raise ConfigError(f"[volumes] uploads = {uploads!r} is not a volume of the app's compose files (they "
                              f"have {sorted(model.get('volumes') or {})}); name the uploads volume, or set "
                              "[volumes] uploads = \"\" when the app keeps no files")
        # UPLOADS_VOLUME is set from [volumes] uploads_volume once a disaster restore moved the uploads.
        original = declared.get("name") or f"{config.stack.project}_{uploads}"
        data_volumes[uploads] = _external(model, uploads, f"${{{VOLUME_VARIABLES['uploads_volume']}:-{original}}}")
        if config.backup.uploads_archive:
            mounts.append(f"{uploads}:{config.backup.uploads_path}:ro")
    out[names.backup] = {
        "image": config.backup.image,
        "restart": "no",
        "profiles": ["ops"],
        "logging": LOGGING,
        "environment": {"RCLONE_CONFIG": f"{RCLONE_CONFIG_DIR}/rclone.conf"},
        # ... and the project's default network too: the route out to the offsite remote, which an
        # app's own network (`internal: true`, say) may not give.
        "networks": {**{network: {} for network in reaching.get("networks") or {}}, "default": {}},
        "volumes": mounts,
    }
    return {"services": out, "volumes": {**volumes, **data_volumes}}


def overlay_text(config: OpsConfig, model: dict, engine) -> str:
    header = (f"# Generated by opsuite from {config.source or 'the ops config'}: edit that config, not this file;\n"
              "# the suite rewrites it whenever the config or the app's compose files change it.\n")
    return header + json.dumps(overlay_model(config, model, engine), indent=2).replace(json.dumps(_RESET), "!reset null") + "\n"


def write_overlay(config: OpsConfig, engine, tag: str | None = None) -> Path | None:
    """Write the generated overlay where [stack] overlay says, when its text changed (partial, then renamed);
    unchanged text keeps the file, and the compose model rendered from it, as it is."""
    path = config.stack.overlay
    if path is None:
        return None
    text = overlay_text(config, render_app_model(config.stack, tag), engine)
    if _written.get(path) == text or (path.is_file() and path.read_text() == text):
        _written[path] = text
        return path
    write_private(path, text)
    _written[path] = text
    return path
