"""Which serving services must never run as two copies, and why: decided from the config and the
rendered compose model, without running anything.

A second copy of a service that holds a SQLite database writes the same file from a second process
and runs the app's jobs and bots twice (seed 003: "only one copy"); a worker named single-instance
would send its emails twice. Such a service is switched stop-first, whatever [deploy] start_first says.
"""

from ..config import OpsConfig
from ..engines import engine_for


def _one_replica(service: dict) -> bool:
    """The app's own compose file says one copy: deploy.replicas (or scale, its other spelling) is 1."""
    return (service.get("deploy") or {}).get("replicas") == 1 or service.get("scale") == 1


def reason(config: OpsConfig, model: dict, name: str) -> str:
    """Why the service must run as one copy only; "" when two copies of it may run for a while."""
    holds = engine_for(config).opened_by(model).get(name)
    if holds:
        return f"{holds}: one copy only, so no second copy writes it or runs the app's jobs beside the first"
    if name in config.services.single_instance:
        return "single instance ([services] single_instance): two versions never run at once"
    # An app service only: the proxy holds the published ports and is never run beside itself anyway,
    # and stopping it first on every deploy would cost a gap when nothing about it changed.
    if name in config.services.app and _one_replica((model.get("services") or {}).get(name) or {}):
        return "one copy only: the app's compose file says deploy.replicas: 1"
    return ""
