"""Container health as compose reports it: wait until services are running and healthy.

A healthcheck's first result comes only after its interval (a worker checked every 60 s holds a
deploy that long), so while the engine still says "starting", the wait runs the container's own
healthcheck now, the same test the engine would run next, and takes a pass as the answer. Docker
25's `start_interval` does this in the engine; the engines our users run (20.10 here) lack it.
"""

import dataclasses
import time
from dataclasses import dataclass

from .. import docker_api, runner
from ..commands import docker as cmd
from ..compose import Compose
from ..errors import CommandFailed, NotReady

PROBE_EVERY_SECONDS = 2.0
DEFAULT_HEALTHCHECK_TIMEOUT_SECONDS = 30.0  # the engine's own default


@dataclass(frozen=True)
class ServiceState:
    service: str
    state: str
    health: str
    image: str
    container: str = ""
    probed: bool = False  # healthy by its own healthcheck run now, while the engine still said "starting"

    @property
    def good(self) -> bool:
        return self.state == "running" and self.health in ("", "healthy")


def service_states(compose: Compose) -> dict[str, ServiceState]:
    states = {}
    for row in compose.containers():
        states[row["Service"]] = ServiceState(
            row["Service"], row.get("State", ""), row.get("Health", ""), row.get("Image", ""), row.get("ID", "")
        )
    return states


def healthcheck_passes_now(container: str) -> bool:
    """Whether the container's own healthcheck passes when run now (False when it has none we can run)."""
    found = docker_api.container_healthcheck(container)
    test = found.get("Test") or []
    if not test or test[0] not in ("CMD", "CMD-SHELL") or len(test) < 2:
        return False
    timeout = (found.get("Timeout") or 0) / 1e9 or DEFAULT_HEALTHCHECK_TIMEOUT_SECONDS
    try:
        return runner.run(cmd.run_healthcheck(container, test), limit="command", check=False, timeout=timeout).returncode == 0
    except CommandFailed:  # past its timeout: not an answer yet
        return False


def wait_healthy(compose: Compose, services: list[str], timeout: float = 120.0) -> dict[str, ServiceState]:
    """Wait until every service runs and passes its healthcheck (the engine's, or the same check run
    now while the engine still says "starting"); raise NotReady with logs if not."""
    deadline = time.monotonic() + timeout
    passed: set[str] = set()  # containers whose check, run now, passed
    next_probe: dict[str, float] = {}
    while True:
        # A container whose check passed now counts as healthy (what the engine says at its next
        # interval), marked probed for the evidence.
        states = {name: dataclasses.replace(state, health="healthy", probed=True)
                  if state.container in passed and state.health == "starting" else state
                  for name, state in service_states(compose).items()}
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
        for s in pending:
            state = states.get(s)
            if state and state.state == "running" and state.health == "starting" and state.container \
                    and time.monotonic() >= next_probe.get(state.container, 0.0):
                next_probe[state.container] = time.monotonic() + PROBE_EVERY_SECONDS
                if healthcheck_passes_now(state.container):
                    passed.add(state.container)
        if not all(states.get(s) and states[s].container in passed for s in pending):
            time.sleep(1.0)
