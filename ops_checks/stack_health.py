"""Runbook: is the stack whole and serving? Engine, compose model, database volume, health, readyz."""

import pytest

from procedures.stack.checkup import HEALTH, CheckupRun
from runbook_plugin.steps import runbook_step

from . import evidence


@pytest.fixture(scope="module")
def run(ops):
    return CheckupRun(ops)


@runbook_step(HEALTH, "tools")
def test_docker_engine_and_compose_v2_answer(run, step, extras):
    evidence.data(extras, "versions", step(run))


@runbook_step(HEALTH, "serving")
def test_serving_release_is_known(run, step, extras):
    evidence.data(extras, "serving TAG", step(run))


@runbook_step(HEALTH, "compose_model")
def test_compose_renders_with_external_database_volume(run, step, extras):
    evidence.data(extras, "rendered database volume", step(run))


@runbook_step(HEALTH, "database_volume")
def test_database_volume_exists_and_is_mounted(run, step, extras):
    """The configured database volume exists and is the one the running database uses."""
    evidence.data(extras, "database volume", step(run))


@runbook_step(HEALTH, "services")
def test_services_are_running_and_healthy(run, step, extras):
    evidence.table(extras, "services", [vars(s) for s in step(run).values()])


@runbook_step(HEALTH, "ready")
def test_readyz_is_green_through_proxy(run, step, extras):
    result = step(run)
    evidence.data(extras, "readyz", {"url": result.url, "status": result.status, "body": result.body})


@runbook_step(HEALTH, "internal_not_public")
def test_database_and_internal_services_not_published_beyond_loopback(run, step, host, extras):
    """The database and internal services listen on loopback at most (testinfra reads the host's sockets);
    the proxy may face the network."""
    evidence.data(extras, "published ports", step(run, host))


@runbook_step(HEALTH, "version")
def test_version_reports_serving_tag(run, step, extras):
    evidence.data(extras, "serving release", step(run))
