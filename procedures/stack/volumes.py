"""Facts about the database volume, its one-time creation on a first install, and the suite's
other data volumes (backups, the rclone config with the Drive token and crypt key, uploads),
external like the database so that no `docker compose down -v` can remove them."""

import uuid
from dataclasses import dataclass, field

from .. import docker_api, runner
from ..commands import docker as cmd
from ..compose_model import database_holder, database_mount, require_external_database_volume
from ..engines.targets import VOLUME
from ..errors import CommandFailed, ConfigError, UnsafeOperation

MANAGED_LABEL = "io.opsuite.role"
ID_LABEL = "io.opsuite.volume-id"
PROJECT_LABEL = "io.opsuite.project"


@dataclass(frozen=True)
class VolumeFacts:
    name: str
    created_at: str  # Docker derives it from the data dir's ctime: informative, not an identity
    driver: str
    mountpoint: str
    labels: dict = field(default_factory=dict)

    @property
    def identity(self) -> tuple[str, str, str]:
        """What proves it is the same volume: name, mountpoint and the id label set at creation."""
        return (self.name, self.mountpoint, self.labels.get(ID_LABEL, ""))


def inspect_volume(name: str) -> VolumeFacts | None:
    """The volume's identity (name and creation time prove it was never recreated), or None."""
    raw = docker_api.volume(name)
    if raw is None:
        return None
    return VolumeFacts(raw["Name"], raw["CreatedAt"], raw["Driver"], raw["Mountpoint"], raw.get("Labels") or {})


def require_database_volume(name: str) -> VolumeFacts:
    """Return the existing database volume; refuse to go on when it is missing."""
    facts = inspect_volume(name)
    if facts is None:
        raise ConfigError(
            f"database volume {name!r} does not exist. If this is the running stack, set "
            "[volumes] database to its real name (docker volume ls); for a first install run "
            "`pytest ops_checks/install.py --tag=VERSION`, which creates it."
        )
    return facts


def create_volume(name: str, role: str, project: str, extra_labels: dict[str, str] | None = None) -> VolumeFacts:
    """Create a new external data volume (role: "database" or "uploads") of the project: a first install's
    database, or a disaster restore's new database or uploads volume; refuses a name that exists. The
    project label is what lets a switch tell this stack's volumes from another's."""
    labels = {**(extra_labels or {}), MANAGED_LABEL: role, PROJECT_LABEL: project, ID_LABEL: str(uuid.uuid4())}
    if inspect_volume(name) is not None:
        raise UnsafeOperation(f"refused: volume {name!r} exists already; a new {role} volume must be new")
    runner.run(cmd.volume_create(name, labels), limit="command")
    return inspect_volume(name)


def create_database_volume(name: str, project: str, extra_labels: dict[str, str] | None = None) -> VolumeFacts:
    """Create an external database volume of the project: a first install's, or a disaster restore's new one."""
    return create_volume(name, "database", project, extra_labels)


def mounted_volume(ctx, service: str, destination: str) -> str | None:
    """The volume a running service's (first) container mounts at destination, or None when it is not running."""
    ids = docker_api.service_containers(ctx.config.stack.project, service)
    if not ids:
        return None
    mounts = docker_api.container_mounts(ids[0])
    return next((m.get("Name") for m in mounts if m.get("Destination") == destination), None)


def mounted_database_volume(ctx) -> str | None:
    """The volume the running database container (or, for a database file, the app container holding
    it) really uses, or None when it is not running."""
    model = ctx.compose.rendered()
    return mounted_volume(ctx, database_holder(model, ctx.config), database_mount(model, ctx.config)[1])


def uploads_volume_in_use(ctx) -> str | None:
    """The real name of the stack's uploads volume as its compose files render it now (with
    [volumes] uploads_volume applied); None when [volumes] uploads is empty."""
    key = ctx.config.volumes.uploads
    if not key:
        return None
    declared = (ctx.compose.rendered_every_profile().get("volumes") or {}).get(key)
    if not declared:
        raise ConfigError(f"[volumes] uploads = {key!r} is not a volume of the stack's compose files; name the "
                          "uploads volume's compose key, or set it to \"\" when the app keeps no files")
    return declared.get("name")


def uploads_mounts(ctx) -> dict[str, str]:
    """Where the app services and the proxy mount the uploads volume: service -> destination. These
    are what a volume switch recreates; one-offs (a chown task, the backup) mount it only for a run."""
    key, model, names = ctx.config.volumes.uploads, ctx.compose.rendered(), ctx.config.services
    return {name: mount["target"] for name in names.serving
            for mount in model["services"][name].get("volumes") or []
            if mount.get("type") == "volume" and mount.get("source") == key}


def refuse_volume_drift(ctx) -> str | None:
    """Refuse when the running database uses another volume than [volumes] database names.

    Recreating the db service then would silently put the stack on the other volume's data.
    """
    mounted = mounted_database_volume(ctx)
    configured = ctx.config.volumes.database
    if mounted is not None and mounted != configured:
        raise UnsafeOperation(
            f"refused: the running database uses volume {mounted!r}, but [volumes] database in "
            f"{ctx.config.source or 'the config'} names {configured!r}; recreating the database would switch "
            f"it to that volume's data. If {mounted!r} is the live one, set [volumes] database = {mounted!r}; "
            "to change volumes on purpose use `CONFIRM=YES pytest ops_checks/switch_database_volume.py "
            "--volume=NAME`"
        )
    return mounted


def outside_the_stack(ctx) -> str | None:
    """Why a step about the database volume does not apply: the database is outside the stack."""
    if ctx.engine.data_place != VOLUME:
        return (f"the database is outside the stack ([database] engine = {ctx.engine.name!r}): "
                "the stack keeps no volume of it")
    return None


def check_database_place(ctx) -> dict:
    """Where the live data is, checked before a change: the external database volume the running
    database really uses, or (for a database outside the stack) the server the app's URL names."""
    if ctx.engine.data_place != VOLUME:
        return {"database": ctx.engine.where(ctx)}
    require_external_database_volume(ctx.compose.rendered(), ctx.config)
    volume = require_database_volume(ctx.config.volumes.database)
    refuse_volume_drift(ctx)
    return {"database_volume": volume.identity}


def data_volume_names(ctx) -> dict[str, str]:
    """The external volumes besides the database's that hold data ([volumes] backups, rclone_config,
    uploads): compose key -> real name, as the rendered model declares them."""
    declared = ctx.compose.rendered_every_profile().get("volumes") or {}  # the backup service is in a profile
    keys = [ctx.config.volumes.backups, ctx.config.volumes.rclone_config, ctx.config.volumes.uploads]
    return {key: declared[key]["name"] for key in keys
            if key and (declared.get(key) or {}).get("external") and declared[key].get("name")}


def ensure_data_volumes(ctx) -> list[str]:
    """Create the data volumes that do not exist yet (a first install, or an adoption whose stack
    never had them); an existing one, compose-made or not, is used as it is. Returns the created."""
    created = []
    for key, name in sorted(data_volume_names(ctx).items()):
        if inspect_volume(name) is None:
            if key == ctx.config.volumes.uploads and ctx.config.volumes.uploads_volume:
                raise ConfigError(f"[volumes] uploads_volume = {name!r} does not exist; the uploads would start "
                                  "empty on it. Set it to the uploads volume's real name (docker volume ls), or \"\" "
                                  "for the name the compose files give it")
            runner.run(cmd.volume_create(name, {MANAGED_LABEL: key, PROJECT_LABEL: ctx.config.stack.project,
                                                ID_LABEL: str(uuid.uuid4())}), limit="command")
            created.append(name)
    return created


def containers_using(name: str, *, running_only: bool = False) -> list[str]:
    """The containers, running or stopped (or only the running ones), that mount the volume."""
    return docker_api.containers_using_volume(name, running_only=running_only)


def has_file(image: str, name: str, path: str) -> bool:
    """Whether the volume holds the file path (relative to its root), read by a networkless,
    read-only throwaway container of image."""
    done = runner.run(cmd.volume_has_file(image, name, path), limit="command", check=False)
    if done.returncode not in (0, 1):
        raise CommandFailed(done.argv, done.returncode, done.stderr[-2000:])
    return done.returncode == 0
