"""The switch plan's one-copy rule: a service holding the SQLite database, named single-instance or
declared with one replica is switched stop-first, whatever [deploy] start_first says; and a config
whose single_instance names no app service is refused at load."""

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from procedures.config import DatabaseConfig, DeployConfig, OpsConfig, ServiceNames, StackConfig
from procedures.load import load_config
from procedures.engines import engine_for
from procedures.errors import ConfigError
from procedures.release import one_copy, switch_plan
from procedures.stack.proxy_view import ProxyView, Upstream

pytestmark = pytest.mark.unit

SQLITE = DatabaseConfig(engine="sqlite", file="/app/data/lazyflow.db")
# LazyFlow (seed 003) as compose renders it: one app service holding the file, nginx in front.
LAZYFLOW = {"services": {
    "app": {"image": "lazyflow-app:1.0.0", "volumes": [
        {"type": "volume", "source": "lazyflow_data", "target": "/app/data"},
        {"type": "volume", "source": "lazyflow_uploads", "target": "/app/uploads"}]},
    "reverse-proxy": {"image": "lazyflow-proxy:1.0.0", "ports": [{"target": 80, "published": "8081"}]}},
    "volumes": {"lazyflow_data": {"name": "lf_lazyflow_data", "external": True}}}


def config(app=("app",), single_instance=(), proxy="", database=SQLITE, start_first=True,
           proxy_container="") -> OpsConfig:
    names = ServiceNames(database="", app=app, single_instance=single_instance, proxy=proxy, migrate="",
                         proxy_container=proxy_container)
    return OpsConfig(StackConfig("lf", (Path("docker-compose.yml"),)), services=names, database=database,
                     deploy=DeployConfig(start_first=start_first))


def planned(ops: OpsConfig, model: dict) -> dict:
    ctx = SimpleNamespace(config=ops, compose=SimpleNamespace(rendered=lambda: model))
    switches, _ = switch_plan.plan(ctx)
    return {s.service: (s.how, s.why) for s in switches}


def test_the_service_holding_the_sqlite_database_is_stop_first_with_the_reason():
    how, why = planned(config(), LAZYFLOW)["app"]
    assert how == switch_plan.STOP_FIRST
    assert why == ("holds the SQLite database /app/data/lazyflow.db (volume lazyflow_data): one copy only, so no "
                   "second copy writes it or runs the app's jobs beside the first")


def test_start_first_on_does_not_make_a_one_copy_service_start_first():
    """[deploy] start_first is the only setting that asks for start-first, and it asks where possible:
    the one-copy rule is decided before it is read."""
    assert planned(config(start_first=True), LAZYFLOW)["app"][0] == switch_plan.STOP_FIRST
    assert planned(config(start_first=False), LAZYFLOW)["app"][0] == switch_plan.STOP_FIRST


def test_every_app_service_mounting_the_databases_volume_holds_it():
    model = {"services": {**LAZYFLOW["services"], "bot": {"image": "lazyflow-app:1.0.0", "volumes": [
        {"type": "volume", "source": "lazyflow_data", "target": "/data"}]},
        "web": {"image": "lazyflow-app:1.0.0", "volumes": [
            {"type": "volume", "source": "lazyflow_uploads", "target": "/app/uploads"}]}}}
    ops = config(app=("app", "bot", "web"))
    assert list(engine_for(ops).opened_by(model)) == ["app", "bot"]
    assert one_copy.reason(ops, model, "web") == ""


def test_no_sqlite_holder_for_a_database_server():
    ops = config(database=DatabaseConfig())
    assert engine_for(ops).opened_by(LAZYFLOW) == {}
    assert one_copy.reason(ops, LAZYFLOW, "app") == ""


@pytest.mark.parametrize("declared", [{"deploy": {"replicas": 1, "resources": {}}}, {"scale": 1}])
def test_one_replica_in_the_apps_compose_file_means_one_copy(declared):
    model = {"services": {"api": {"image": "api:1", **declared}}}
    ops = config(app=("api",), database=DatabaseConfig())
    assert planned(ops, model)["api"] == (switch_plan.STOP_FIRST,
                                          "one copy only: the app's compose file says deploy.replicas: 1")


@pytest.mark.parametrize("declared", [{}, {"deploy": {"replicas": 2}}, {"scale": 3}])
def test_without_one_replica_declared_the_usual_decision_stands(declared):
    model = {"services": {"api": {"image": "api:1", **declared}}}
    ops = config(app=("api",), database=DatabaseConfig())
    assert planned(ops, model)["api"] == (switch_plan.RECREATE, "no proxy in front of it ([services] proxy = \"\")")


def test_single_instance_by_config():
    model = {"services": {"api": {"image": "api:1"}, "email-worker": {"image": "api:1"}}}
    ops = config(app=("api", "email-worker"), single_instance=("email-worker",), database=DatabaseConfig())
    assert planned(ops, model)["email-worker"] == (
        switch_plan.STOP_FIRST, "single instance ([services] single_instance): two versions never run at once")


def write_config(tmp_path: Path, services: str) -> Path:
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text(f'[stack]\nproject = "zen"\ncompose_files = ["docker-compose.yml"]\n\n[services]\n{services}\n')
    return path


def test_a_single_instance_name_that_is_no_app_service_is_refused(tmp_path):
    path = write_config(tmp_path, 'app = ["api", "email-worker"]\nsingle_instance = ["email_worker"]')
    with pytest.raises(ConfigError, match=r"\[services\] single_instance names email_worker, which \[services\] app "
                                          r"does not list \(api, email-worker\).*misspelt"):
        load_config(path)


def test_the_default_single_instance_is_not_held_against_a_config_that_never_set_it(tmp_path):
    assert load_config(write_config(tmp_path, 'app = ["app"]')).services.app == ("app",)
    named = load_config(write_config(tmp_path, 'app = ["api", "email-worker"]\nsingle_instance = ["email-worker"]'))
    assert named.services.single_instance == ("email-worker",)


def test_one_replica_counts_for_app_services_only():
    """The proxy is recreated only when it changed; declaring it one replica does not make it stopped first."""
    model = {"services": {"api": {"image": "api:1"}, "proxy": {"image": "nginx:1", "deploy": {"replicas": 1}}}}
    ops = config(app=("api",), database=DatabaseConfig())
    assert one_copy.reason(ops, model, "proxy") == ""


def test_a_proxy_another_project_runs_is_read_and_lets_the_app_switch_start_first(monkeypatch):
    """full-stack-fastapi-template's Traefik runs from its own compose file, on the external network
    traefik-public: [services] proxy_container names it, and the switch is decided on its view."""
    model = {"services": {"backend": {"image": "backend:1", "labels": {"traefik.enable": "true"}}}}
    ops = replace(config(app=("backend",), database=DatabaseConfig()), services=ServiceNames(
        database="", app=("backend",), single_instance=(), proxy="", migrate="", proxy_container="edge-traefik-1"))
    read = []
    monkeypatch.setattr(switch_plan, "_running", lambda container: container == "edge-traefik-1")
    monkeypatch.setattr(switch_plan.proxy_config, "read", lambda container, *a: read.append(container) or ProxyView(
        "traefik", {"backend": Upstream("backend", 8000)}, follows_health=True))
    assert planned(ops, model)["backend"][0] == switch_plan.START_FIRST
    assert read == ["edge-traefik-1"]
    alone = replace(ops, services=replace(ops.services, proxy_container=""))
    assert planned(alone, model)["backend"] == (switch_plan.RECREATE, 'no proxy in front of it ([services] proxy = "")')
    monkeypatch.setattr(switch_plan, "_running", lambda container: False)
    assert "'edge-traefik-1' is not running" in planned(ops, model)["backend"][1]
