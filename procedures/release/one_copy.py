"""Which serving services must never run as two copies, and why: decided from the config and the
rendered compose model, without running anything.

A second copy of a service that holds a SQLite database writes the same file from a second process
and runs the app's jobs and bots twice (seed 003: "only one copy"); a worker named single-instance
would send its emails twice. Such a service is switched stop-first, whatever [deploy] start_first says.
"""

from ..compose_model import database_file_mount
from ..config import OpsConfig


def sqlite_holders(config: OpsConfig, model: dict) -> list[str]:
    """The app services mounting the volume the SQLite file lies on (none for another engine)."""
    if config.database.engine != "sqlite":
        return []
    key = database_file_mount(config, model)[0]
    return [name for name in config.services.app
            if any(m.get("type") == "volume" and m.get("source") == key
                   for m in (model["services"].get(name) or {}).get("volumes") or [])]


def _one_replica(service: dict) -> bool:
    """The app's own compose file says one copy: deploy.replicas (or scale, its other spelling) is 1."""
    return (service.get("deploy") or {}).get("replicas") == 1 or service.get("scale") == 1


def reason(config: OpsConfig, model: dict, name: str) -> str:
    """Why the service must run as one copy only; "" when two copies of it may run for a while."""
    if name in sqlite_holders(config, model):
        key = database_file_mount(config, model)[0]
        return (f"holds the SQLite database {config.database.file} (volume {key}): one copy only, so no second "
                "copy writes it or runs the app's jobs beside the first")
    if name in config.services.single_instance:
        return "single instance ([services] single_instance): two versions never run at once"
    # An app service only: the proxy holds the published ports and is never run beside itself anyway,
    # and stopping it first on every deploy would cost a gap when nothing about it changed.
    if name in config.services.app and _one_replica((model.get("services") or {}).get(name) or {}):
        return "one copy only: the app's compose file says deploy.replicas: 1"
    return ""
