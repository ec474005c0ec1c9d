"""Traefik by its labels on a compose file rendered by the real compose CLI: discovery takes it for
the proxy, its view finds the api's upstream on its `expose:`d port, and the operator's override with
the labels the patch names makes the api switch cleanly."""

import json
from pathlib import Path

import pytest

from procedures import runner
from procedures.adopt.roles import find_roles
from procedures.commands import compose as compose_cmd
from procedures.config import StackConfig
from procedures.stack import proxy_traefik

pytestmark = pytest.mark.compose
HERE = Path(__file__).resolve().parents[1] / "fixtures" / "proxies" / "traefik"


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in ("COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_PROFILES", "TAG"):
        monkeypatch.delenv(name, raising=False)


def rendered(*names: str) -> dict:
    stack = StackConfig(project="shop", compose_files=tuple(HERE / n for n in names))
    return json.loads(runner.run(compose_cmd.config_json_every_profile(stack), limit="command").stdout)


def test_traefik_is_the_proxy_and_its_labels_give_the_api_s_upstream_and_patch():
    model = rendered("docker-compose.yml")
    roles = find_roles(model)
    assert roles.proxy == "traefik" and "api" in roles.app
    view = proxy_traefik.judge(model, list(roles.app), str(HERE / "docker-compose.yml"), "/readyz")
    api = view.upstreams["api"]
    assert list(view.upstreams) == ["api"] and api.port == 8000
    assert "no `retry` middleware on its router(s) shop" in api.problem and "no healthcheck" in api.problem
    assert "`traefik.http.routers.shop.middlewares=api-retry`" in api.patch
    assert "`traefik.http.services.api.loadbalancer.healthcheck.path=/readyz`" in api.patch


def test_the_override_with_the_patched_labels_switches_cleanly():
    model = rendered("docker-compose.yml", "docker-compose.retry.yml")
    api = proxy_traefik.judge(model, ["api", "worker"]).upstreams["api"]
    assert (api.port, api.problem, api.advice) == (8000, "", "")
