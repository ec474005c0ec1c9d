"""Test projects an earlier engine left behind: a run stopped before its teardown (a session that
ended, a killed CI) leaves its containers on disk, and the engine restarts those with a restart
policy the next time it starts. They cost the next run CPU, and a fixed container_name they hold
(ZakOps' `zakops-backend`) makes the next copy of that stack fail to start.

`python -m testkit.leftovers` removes every test project (TEST_PREFIX) whose containers, networks and
volumes were all created before the running engine started: what this engine's own runs made (a
bench or a second suite beside CI) is never touched. CI runs it before the suite.
"""

import os
from datetime import datetime, timezone
from pathlib import Path

import docker

from .disposable import TEST_PREFIX, destroy_project

PROJECT_LABEL = "com.docker.compose.project"
SUITE_LABEL = "io.opsuite.project"  # volumes the suite made for a project (its database volume)
ENGINE_PID_FILE = Path("/var/run/docker.pid")


def engine_started_at(pid_file: Path = ENGINE_PID_FILE) -> datetime:
    """When the local dockerd started, from its pid file and /proc (the engine this machine runs)."""
    pid = int(pid_file.read_text().strip())
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks_after_boot = int(fields[19])  # field 22, starttime, counted after the command's ")"
    boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime "))
    return datetime.fromtimestamp(boot + ticks_after_boot / os.sysconf("SC_CLK_TCK"), timezone.utc)


def _created(attrs: dict) -> datetime:
    """Docker's creation time of a container or network ('Created') or a volume ('CreatedAt'): UTC,
    to the second (Docker writes nanoseconds and a Z, which fromisoformat of 3.11 does not read)."""
    stamp = attrs.get("Created") or attrs.get("CreatedAt") or ""
    if isinstance(stamp, int):  # a container as the list call gives it: unix seconds
        return datetime.fromtimestamp(stamp, timezone.utc)
    return datetime.fromisoformat(stamp[:19]).replace(tzinfo=timezone.utc)


def _labels(attrs: dict) -> dict:
    return attrs.get("Labels") or attrs.get("Config", {}).get("Labels") or {}


def test_projects(before: datetime | None = None) -> set[str]:
    """The test projects that own a container, a network or a volume on this engine; with `before`,
    only those that own nothing created at or after it."""
    client = docker.from_env()
    # Containers as one list call answers them: the SDK's containers.list() inspects each one after
    # listing, and a container the other worker removed in between failed the sweep with NotFound.
    owners = [*client.api.containers(all=True), *(n.attrs for n in client.networks.list()),
              *(v.attrs for v in client.volumes.list())]
    projects: dict[str, bool] = {}
    for attrs in owners:
        labels = _labels(attrs)
        project = labels.get(PROJECT_LABEL) or labels.get(SUITE_LABEL) or ""
        if project.startswith(TEST_PREFIX):
            older = before is None or _created(attrs) < before
            projects[project] = projects.get(project, True) and older
    return {project for project, all_older in projects.items() if all_older}


def holders_of(container_names: list[str]) -> list[dict]:
    """The containers of test projects that hold one of these names (fixed `container_name`s), each as
    {"name", "project"}; from the one list call, as test_projects."""
    rows = docker.from_env().api.containers(all=True, filters={"name": container_names})
    held = [{"name": r["Names"][0].lstrip("/"), "project": _labels(r).get(PROJECT_LABEL, "")} for r in rows]
    return [h for h in held if h["name"] in container_names and h["project"].startswith(TEST_PREFIX)]


def main() -> None:
    started = engine_started_at()
    projects = sorted(test_projects(before=started))
    for project in projects:
        destroy_project(project)
    print(f"removed {len(projects)} test project(s) left from before the engine started at "
          f"{started:%Y-%m-%d %H:%M:%S} UTC" + (f": {', '.join(projects)}" if projects else ""))


if __name__ == "__main__":
    main()
