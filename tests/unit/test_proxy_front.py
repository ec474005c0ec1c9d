"""The proxy discovery proposes for app services that publish their own port (healthchecks' shape): one
compose file that compose itself renders with the app's files, the app's port moved to a Caddy that retries."""

import json

import pytest

from procedures import runner
from procedures.adopt import proxy_front
from procedures.adopt.roles import Roles, find_roles
from procedures.commands import compose as compose_cmd
from procedures.config import StackConfig

APP = """services:
  web:
    image: shop/web:1.0
    ports: ["127.0.0.1:18471:8000"]
    networks: [front, back]
  worker:
    image: shop/web:1.0
    ports: ["127.0.0.1:18472:9000"]
  db:
    image: postgres:16
    networks: [back]
  caddy:
    image: caddy:2
    profiles: [parked]
networks:
  front: {}
  back: {}
"""


def _published(target: int, published: str, host_ip: str = "127.0.0.1") -> dict:
    return {"mode": "ingress", "host_ip": host_ip, "target": target, "published": published, "protocol": "tcp"}


@pytest.mark.unit
def test_no_front_when_the_stack_has_a_proxy_or_nothing_publishes():
    model = {"services": {"web": {"ports": [_published(8000, "18471")]}, "nginx": {}}}
    assert proxy_front.propose(model, Roles(app=["web"], proxy="nginx")) is None
    assert proxy_front.propose({"services": {"web": {}}}, Roles(app=["web"])) is None


@pytest.mark.unit
def test_single_instance_and_host_network_services_are_not_fronted():
    model = {"services": {"web": {"ports": [_published(8000, "18471")]},
                          "hostnet": {"network_mode": "host", "ports": [_published(80, "8080")]}}}
    assert proxy_front.propose(model, Roles(app=["web", "hostnet"], single_instance=["web"])) is None


@pytest.mark.unit
def test_an_ipv6_binding_keeps_its_brackets_and_each_port_gets_its_own_site():
    model = {"services": {"web": {"ports": [_published(8000, "18471", "::1"), _published(8000, "18473", "")]}}}
    front = proxy_front.propose(model, Roles(app=["web"]))
    assert '"[::1]:18471:18471"' in front.compose_text and '"18473:18473"' in front.compose_text
    assert "http://:18471 {" in front.compose_text and "http://:18473 {" in front.compose_text
    assert front.describe() == "[::1]:18471 -> web:8000, 18473 -> web:8000"


@pytest.mark.compose
def test_compose_renders_the_app_with_the_proposed_file_and_the_proxy_holds_the_ports(tmp_path, monkeypatch):
    for name in ("COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_PROFILES", "TAG"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "compose.yml").write_text(APP)
    stack = StackConfig(project="shop", compose_files=(tmp_path / "compose.yml",))

    def render(stack):
        return json.loads(runner.run(compose_cmd.config_json_every_profile(stack), limit="command").stdout)

    model = render(stack)
    roles = find_roles(model, active=frozenset({"web", "worker", "db"}))
    assert roles.proxy is None, "a proxy only in a profile that is off serves nothing"
    front = proxy_front.propose(model, roles)
    assert front is not None and front.service == proxy_front.SERVICE == "opsuite-proxy"
    (tmp_path / proxy_front.FILE_NAME).write_text(front.compose_text)

    both = render(StackConfig(project="shop", compose_files=(tmp_path / "compose.yml", tmp_path / proxy_front.FILE_NAME)))

    assert roles.single_instance == ["worker"] and {u.service for u in front.upstreams} == {"web"}
    assert not both["services"]["web"].get("ports"), "the app's own port is dropped"
    assert both["services"]["worker"]["ports"], "a single-instance worker is not fronted: it keeps its port"
    proxy = both["services"]["opsuite-proxy"]
    assert [(p["host_ip"], p["published"], p["target"]) for p in proxy["ports"]] == [("127.0.0.1", "18471", 18471)]
    assert set(proxy["networks"]) == {"front", "back"}, "the proxy joins every network web is on"
    content = both["configs"]["opsuite-proxy-caddyfile"]["content"]
    assert "reverse_proxy web:8000 {" in content and "lb_try_duration 15s" in content, "stop grace 10 s + 5 s"
    again = find_roles(both, active=frozenset({"web", "worker", "db", "opsuite-proxy"}))
    assert again.proxy == "opsuite-proxy" and "web" in again.app


@pytest.mark.unit
def test_caddy_retries_longer_than_the_service_takes_to_stop():
    """A server that holds requests while it stops answers none before it exits: Caddy's retry (counted from
    the request's arrival) outlasts the service's stop_grace_period."""
    model = {"services": {"web": {"ports": [_published(8000, "18471")], "stop_grace_period": "1m30s"}}}
    front = proxy_front.propose(model, Roles(app=["web"]))
    assert "lb_try_duration 95s" in front.compose_text and "lb_try_interval 250ms" in front.compose_text
