"""Runbook: is the stack whole and serving? Engine, compose model, database volume, health, readyz."""

from urllib.parse import urlsplit

import pytest

from procedures import facts, health, http_checks, release, volumes
from procedures.context import OpsContext

from . import evidence

state: dict = {}


@pytest.mark.order(1)
def test_docker_engine_and_compose_v2_answer(extras):
    versions = facts.tool_versions()
    evidence.data(extras, "versions", versions)
    assert not versions["Docker engine"].startswith("unavailable"), versions["Docker engine"]
    assert versions["Docker Compose"].startswith("2."), "compose v2 is required: " + versions["Docker Compose"]


@pytest.mark.order(2)
def test_serving_release_is_known(ops):
    state["ctx"] = ops if ops.tag else OpsContext(ops.config, release.running_tag(ops))


@pytest.mark.order(3)
def test_compose_renders_with_external_database_volume(ops, extras):
    model = state["ctx"].compose.rendered()
    pgdata = model["volumes"]["pgdata"]
    evidence.data(extras, "rendered pgdata volume", pgdata)
    assert pgdata.get("external") is True
    assert pgdata["name"] == ops.config.volumes.database


@pytest.mark.order(4)
def test_database_volume_exists_and_is_mounted(ops, extras):
    """The configured database volume exists and is the one the running database uses."""
    facts_ = volumes.require_database_volume(ops.config.volumes.database)
    evidence.data(extras, "database volume", {**vars(facts_), "mounted by the db": volumes.refuse_volume_drift(
        state["ctx"])})


@pytest.mark.order(5)
def test_services_are_running_and_healthy(ops, extras):
    services = [ops.config.services.database, *ops.config.services.app, ops.config.services.proxy]
    states = health.wait_healthy(state["ctx"].compose, services, timeout=60)
    evidence.table(extras, "services", [vars(s) for s in states.values()])


@pytest.mark.order(6)
def test_readyz_is_green_through_proxy(ops, extras):
    result = http_checks.wait_until_ready(ops.config.http, timeout=30)
    evidence.data(extras, "readyz", {"url": result.url, "status": result.status, "body": result.body})


@pytest.mark.order(7)
def test_proxy_listens_on_loopback_only(ops, host, extras):
    """The host publishes the proxy on 127.0.0.1 only (testinfra reads the host's sockets)."""
    port = urlsplit(ops.config.http.base_url).port or 80
    listening = [s for s in host.socket.get_listening_sockets() if s.endswith(f":{port}")]
    evidence.data(extras, f"listening sockets on port {port}", listening)
    assert f"tcp://127.0.0.1:{port}" in listening
    assert not [s for s in listening if not s.startswith(("tcp://127.", "tcp://::1"))], listening


@pytest.mark.order(8)
def test_version_reports_serving_tag(ops, extras):
    result = http_checks.get(ops.config.http.base_url, ops.config.http.version_path)
    evidence.data(extras, "version", {"url": result.url, "status": result.status, "body": result.body})
    assert result.ok and result.json().get("version") == state["ctx"].tag
