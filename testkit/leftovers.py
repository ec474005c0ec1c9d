"""Test projects an earlier run left behind: a run stopped before its teardown (a session that ended,
a killed CI) leaves its containers on disk, and the engine restarts those with a restart policy the
next time it starts. They cost the next run CPU, and a fixed container_name they hold (ZakOps'
`zakops-backend`) makes the next copy of that stack fail to start.

`python -m testkit.leftovers` removes every test project (TEST_PREFIX) the engine holds. CI runs it
before the suite, on a machine where nothing else runs tests; a developer running two suites at
once would not want it, so the suite itself never calls it.
"""

import docker

from .disposable import TEST_PREFIX, destroy_project

PROJECT_LABEL = "com.docker.compose.project"
SUITE_LABEL = "io.opsuite.project"  # volumes the suite made for a project (its database volume)


def test_projects() -> set[str]:
    """The test projects that own a container, a network or a volume on this engine."""
    client = docker.from_env()
    owners = [*client.containers.list(all=True), *client.networks.list(), *client.volumes.list()]
    labels = [owner.attrs.get("Labels") or owner.attrs.get("Config", {}).get("Labels") or {} for owner in owners]
    projects = {found.get(PROJECT_LABEL) or found.get(SUITE_LABEL) or "" for found in labels}
    return {project for project in projects if project.startswith(TEST_PREFIX)}


def holders_of(container_names: list[str]) -> list:
    """Containers of test projects that hold one of these names (fixed `container_name`s)."""
    client = docker.from_env()
    held = [c for c in client.containers.list(all=True) if c.name in container_names]
    return [c for c in held if c.labels.get(PROJECT_LABEL, "").startswith(TEST_PREFIX)]


def main() -> None:
    projects = sorted(test_projects())
    for project in projects:
        destroy_project(project)
    print(f"removed {len(projects)} test project(s) an earlier run left behind"
          + (f": {', '.join(projects)}" if projects else ""))


if __name__ == "__main__":
    main()
