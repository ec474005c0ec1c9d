"""Facts about the database volume, and its one-time creation on a first install."""

import json
import uuid
from dataclasses import dataclass, field

from . import runner
from .commands import docker as cmd
from .errors import CommandFailed, ConfigError

MANAGED_LABEL = "io.opsuite.role"
ID_LABEL = "io.opsuite.volume-id"


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
    try:
        done = runner.run(cmd.volume_inspect(name))
    except CommandFailed as e:
        if "no such volume" in e.stderr_tail.lower():
            return None
        raise
    raw = json.loads(done.stdout)[0]
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


def create_database_volume(name: str) -> VolumeFacts:
    """Create the external database volume for a first install (compose never creates it)."""
    runner.run(cmd.volume_create(name, {MANAGED_LABEL: "database", ID_LABEL: str(uuid.uuid4())}))
    return require_database_volume(name)
