"""Waiting for container health ends when the answer is known: a container whose healthcheck runs
every 5 minutes is healthy as soon as that same check, run now, passes; one whose check fails is
never taken for healthy. A real compose project of the backup image (present on every machine the
suite runs on), no app."""

import secrets

import pytest

from procedures.compose import Compose
from procedures.config import BackupConfig, OpsConfig, StackConfig
from procedures.errors import NotReady
from procedures.stack import services
from testkit import disposable

pytestmark = [pytest.mark.stack]

COMPOSE = """
services:
  checked-rarely:
    image: {image}
    command: ["sleep", "infinity"]
    healthcheck: {{test: ["CMD-SHELL", "test -d /proc/1"], interval: 300s, timeout: 5s}}
  never-well:
    image: {image}
    command: ["sleep", "infinity"]
    healthcheck: {{test: ["CMD", "false"], interval: 300s, timeout: 5s}}
  unchecked:
    image: {image}
    command: ["sleep", "infinity"]
"""


@pytest.fixture(scope="module")
def compose(tmp_path_factory):
    directory = tmp_path_factory.mktemp("health-waits")
    (directory / "docker-compose.yml").write_text(COMPOSE.format(image=BackupConfig().image))
    project = f"{disposable.TEST_PREFIX}waits-{secrets.token_hex(3)}"
    made = Compose(OpsConfig(StackConfig(project, (directory / "docker-compose.yml",))))
    try:
        made.up(["checked-rarely", "never-well", "unchecked"])
        yield made
    finally:
        disposable.destroy_project(project)


def test_a_rarely_checked_service_is_healthy_when_its_own_check_passes_now(compose):
    states = services.wait_healthy(compose, ["checked-rarely", "unchecked"], timeout=60)
    assert states["checked-rarely"].probed and states["checked-rarely"].good, "its own check, run now, passed"
    engine_says = services.service_states(compose)["checked-rarely"].health
    assert engine_says == "starting", "the engine has not run the check yet (300 s)"
    assert states["unchecked"].good and not states["unchecked"].probed


def test_a_service_whose_check_fails_is_never_taken_for_healthy(compose):
    with pytest.raises(NotReady, match="never-well=running/starting"):
        services.wait_healthy(compose, ["never-well"], timeout=8)
