"""Volumes the suite creates carry the project's label, and a switch requires it: another stack's
database volume, or one that carries no project label, is refused before anything changes."""

import docker
import pytest

from procedures.stack import volumes
from testkit.ops_run import run_check

pytestmark = [pytest.mark.stack]


def _volume_with_a_cluster(stack, suffix: str, labels: dict) -> str:
    """A volume holding PG_VERSION (a cluster, as far as the switch's check goes), named under the test
    project so that the project's cleanup removes it."""
    name = f"{stack.ctx.config.volumes.database}_{suffix}"
    client = docker.from_env()
    client.volumes.create(name, labels=labels)
    image = stack.ctx.compose.rendered()["services"][stack.ctx.config.services.database]["image"]
    client.containers.run(image, ["-c", "echo 15 > /v/PG_VERSION"], entrypoint="sh", remove=True,
                          network_mode="none", volumes={name: {"bind": "/v", "mode": "rw"}})
    return name


def test_install_labels_the_database_volume_with_its_project(running_stack):
    labels = volumes.require_database_volume(running_stack.ctx.config.volumes.database).labels
    assert labels[volumes.PROJECT_LABEL] == running_stack.project
    assert labels[volumes.MANAGED_LABEL] == "database"


@pytest.mark.fault("switch to another stack's database volume, or to one without the project label")
@pytest.mark.parametrize("whose", ["another stack's", "unlabelled"])
def test_a_switch_refuses_a_volume_without_this_projects_label(running_stack, tmp_path, whose):
    stack = running_stack
    project_label = {volumes.PROJECT_LABEL: "opstest-another"} if whose == "another stack's" else {}
    target = _volume_with_a_cluster(stack, whose.split("'")[0].replace(" ", "_"),
                                    {volumes.MANAGED_LABEL: "database", **project_label})
    before = (volumes.mounted_database_volume(stack.ctx), stack.config_path.read_text())

    done, _ = run_check(stack, tmp_path, "switch_database_volume", f"--volume={target}", env={"CONFIRM": "YES"})

    assert done.returncode != 0
    assert f"refused: {target!r} is not a database volume of this stack" in done.stdout, done.stdout[-3000:]
    assert f"requires the label {volumes.PROJECT_LABEL}={stack.project}" in done.stdout
    assert (volumes.mounted_database_volume(stack.ctx), stack.config_path.read_text()) == before
