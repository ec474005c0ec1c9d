"""Container health as compose reports it: wait until services are running and healthy."""

import time
from dataclasses import dataclass

from ..compose import Compose
from ..errors import NotReady


@dataclass(frozen=True)
class ServiceState:
    service: str
    state: str
    health: str
    image: str

    @property
    def good(self) -> bool:
        return self.state == "running" and self.health in ("", "healthy")


def service_states(compose: Compose) -> dict[str, ServiceState]:
    states = {}
    for row in compose.containers():
        states[row["Service"]] = ServiceState(
            row["Service"], row.get("State", ""), row.get("Health", ""), row.get("Image", "")
        )
    return states


def wait_healthy(compose: Compose, services: list[str], timeout: float = 120.0) -> dict[str, ServiceState]:
    """Wait until every service runs and passes its healthcheck; raise NotReady with logs if not."""
    deadline = time.monotonic() + timeout
    while True:
        states = service_states(compose)
        pending = [s for s in services if s not in states or not states[s].good]
        if not pending:
            return {s: states[s] for s in services}
        failed = [s for s in pending if s in states and states[s].health == "unhealthy"
                  or s in states and states[s].state in ("exited", "dead")]
        if failed or time.monotonic() >= deadline:
            described = ", ".join(
                f"{s}={states[s].state}/{states[s].health or 'no healthcheck'}" if s in states
                else f"{s}=missing" for s in pending
            )
            raise NotReady(f"services not healthy: {described}\n{compose.logs(pending, tail=40)}")
        time.sleep(1.0)
