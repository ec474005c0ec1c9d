"""The proxy's readiness for a start-first switch, judged from its own dumps (`nginx -T`, `caddy adapt`)."""

import pytest

from procedures.stack.proxy_caddy import judge as judge_caddy
from procedures.stack.proxy_nginx import judge_dump as judge_nginx

pytestmark = pytest.mark.unit
SERVICES = ["api", "email-worker"]

DYNAMIC = """
# configuration file /etc/nginx/conf.d/default.conf:
server {
    listen 80;
    resolver 127.0.0.11 valid=5s ipv6=off;   # Docker's DNS
    set $upstream http://api:8000;
    location / { proxy_pass $upstream; }
}
"""


def test_a_variable_upstream_with_a_short_resolver_switches_cleanly():
    view = judge_nginx(DYNAMIC, SERVICES)
    assert view.kind == "nginx" and view.refresh_seconds == 5
    assert view.upstreams["api"].port == 8000 and view.upstreams["api"].problem == ""
    assert "email-worker" not in view.upstreams


@pytest.mark.parametrize("text, setting", [
    ("server { location / { proxy_pass http://api:8000; } }", "static upstream"),
    ("server { set $u http://api:8000; location / { proxy_pass $u; } }", "no `resolver`"),
    ("server { resolver 127.0.0.11; set $u http://api; location / { proxy_pass $u; } }", "valid=5s"),
    ("server { resolver 127.0.0.11 valid=5s; set $u http://api:8000; proxy_next_upstream off;"
     " location / { proxy_pass $u; } }", "proxy_next_upstream off"),
])
def test_a_proxy_that_would_drop_requests_names_the_setting(text, setting):
    problem = judge_nginx(text, SERVICES).upstreams["api"].problem
    assert setting in problem and "DEPLOYMENT_RUNBOOK" in problem


def test_a_commented_out_resolver_does_not_count():
    text = "server {\n  # resolver 127.0.0.11 valid=5s;\n  set $u http://api:8000;\n  location / { proxy_pass $u; }\n}"
    assert "no `resolver`" in judge_nginx(text, SERVICES).upstreams["api"].problem


def caddy(load_balancing: dict | None) -> dict:
    proxy = {"handler": "reverse_proxy", "upstreams": [{"dial": "api:8000"}]}
    if load_balancing is not None:
        proxy["load_balancing"] = load_balancing
    return {"apps": {"http": {"servers": {"srv0": {"routes": [{"handle": [
        {"handler": "subroute", "routes": [{"handle": [proxy]}]}]}]}}}}}


@pytest.mark.parametrize("load_balancing, problem", [
    (None, "lb_try_duration"), ({"try_duration": 0}, "lb_try_duration"),
    ({"try_duration": 5_000_000_000}, ""), ({"try_duration": "5s"}, ""),
])
def test_caddy_needs_a_try_duration(load_balancing, problem):
    view = judge_caddy(caddy(load_balancing), SERVICES)
    assert view.kind == "caddy" and view.upstreams["api"].port == 8000
    assert (problem in view.upstreams["api"].problem) if problem else view.upstreams["api"].problem == ""


def test_caddy_dynamic_upstreams_are_found():
    adapted = {"handle": [{"handler": "reverse_proxy", "dynamic_upstreams": {"source": "a", "name": "api", "port": "8000"},
                           "load_balancing": {"try_duration": 5_000_000_000}}]}
    assert judge_caddy(adapted, SERVICES).upstreams["api"].port == 8000


def test_caddy_reuses_its_connections_and_nginx_dials_for_each_request():
    """Caddy's keep-alive pool can carry every request to the old container while the new one runs, so
    the switch does not ask the new release through it; nginx with a variable upstream connects anew."""
    assert judge_caddy(caddy({"try_duration": "5s"}), SERVICES).reuses_connections is True
    assert judge_nginx(DYNAMIC, SERVICES).reuses_connections is False
