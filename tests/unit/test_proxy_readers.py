"""The proxies as users write them: nginx `upstream` blocks and includes read by crossplane from a real
`nginx -T` dump, Caddy with and without retries from real `caddy adapt` output, Traefik by its labels;
each problem comes with the exact patch, and a patched config is judged clean."""

import json
import re
from pathlib import Path

import pytest

from procedures import compose_model
from procedures.commands import proxy as proxy_cmd
from procedures.stack import proxy_caddy, proxy_nginx, proxy_traefik

pytestmark = pytest.mark.unit
FIXTURES = Path(__file__).parent.parent / "fixtures" / "proxies"
WGER_DUMP = (FIXTURES / "nginx-T-wger-upstream.txt").read_text()


def test_a_real_nginx_dump_is_split_into_its_files_and_includes_are_spliced_where_they_stand():
    assert list(proxy_nginx.split_dump(WGER_DUMP)) == [
        "/etc/nginx/nginx.conf", "/etc/nginx/mime.types", "/etc/nginx/conf.d/default.conf",
        "/etc/nginx/snippets/proxy-headers.conf"]
    tree = proxy_nginx.config_tree(WGER_DUMP)
    http = next(d for d in tree if d["directive"] == "http")
    location = next(d for server in http["block"] if server["directive"] == "server"
                    for d in server["block"] if d["directive"] == "location" and d["args"] == ["/"])
    headers = [d for d in location["block"] if d["directive"] == "proxy_set_header"]
    assert [d["file"] for d in headers] == ["/etc/nginx/snippets/proxy-headers.conf"] * 3


def test_an_upstream_block_is_followed_to_the_service_and_its_port_with_the_exact_patch():
    view = proxy_nginx.judge_dump(WGER_DUMP, ["web", "celery_worker"])
    web = view.upstreams["web"]
    assert list(view.upstreams) == ["web"] and web.port == 8000
    assert "upstream block 'wger'" in web.problem and "/etc/nginx/conf.d/default.conf line 4" in web.problem
    assert web.patch.startswith("in /etc/nginx/conf.d/default.conf line 11, replace `proxy_pass http://wger;` with")
    assert "`set $web_upstream http://web:8000;` `proxy_pass $web_upstream;`" in web.patch


def _apply(dump: str, patch: str) -> str:
    """The dump with the patch's replacement done as an operator would (the lines between backquotes)."""
    old, *new = re.findall(r"`([^`]*)`", patch)[:4]
    return dump.replace(old, " ".join(new))


def test_the_patch_it_proposes_for_an_upstream_block_is_judged_clean():
    patch = proxy_nginx.judge_dump(WGER_DUMP, ["web"]).upstreams["web"].patch
    patched = _apply(WGER_DUMP, patch)
    assert "proxy_pass $web_upstream;" in patched
    view = proxy_nginx.judge_dump(patched, ["web"])
    assert view.upstreams["web"].problem == "" and view.upstreams["web"].port == 8000 and view.refresh_seconds == 5


ISSUE_SHOP = """
http {
    upstream shop_app { server web:8000; }
    include conf.d/*.conf;
}
# configuration file /etc/nginx/conf.d/shop.conf:
server {
    listen 80;
    location / { proxy_pass http://shop_app; }
    location /api/ { set $backend shop_app; proxy_pass http://$backend; }
}
"""


def test_the_issue_s_shop_app_upstream_and_a_relative_include_are_understood():
    dump = "# configuration file /etc/nginx/nginx.conf:\n" + ISSUE_SHOP
    view = proxy_nginx.judge_dump(dump, ["web"])
    assert view.upstreams["web"].port == 8000 and "upstream block 'shop_app'" in view.upstreams["web"].problem


@pytest.mark.parametrize("text, problem", [
    ("http { resolver 127.0.0.11 valid=5s; upstream a { zone a 64k; server api:8000 resolve; }"
     " server { location / { proxy_pass http://a; } } }", ""),
    ("http { resolver 127.0.0.11 valid=5s; proxy_next_upstream off; server { set $u http://api:8000;"
     " location / { proxy_pass $u; } } }", "proxy_next_upstream off"),
    ("http { server { resolver 127.0.0.11 valid=5s; set $u http://api:8000; location / {"
     " proxy_next_upstream error timeout; proxy_pass $u; } } }", ""),
    ("http { server { location / { resolver 127.0.0.11 valid=10m; set $u http://api:8000; proxy_pass $u; } } }",
     "valid=5s"),
])
def test_nginx_scopes_resolve_and_retries_are_read_per_block(text, problem):
    found = proxy_nginx.judge_dump(text, ["api"]).upstreams["api"]
    assert (problem in found.problem) if problem else found.problem == ""


def test_a_config_crossplane_cannot_read_is_a_value_error_naming_the_file():
    with pytest.raises(ValueError, match="/etc/nginx/conf.d/bad.conf"):
        proxy_nginx.judge_dump("# configuration file /etc/nginx/conf.d/bad.conf:\nserver { location / {\n", ["api"])


CADDY_SERVICES = ["api", "admin"]


def test_caddy_without_retries_names_the_caddyfile_line_to_change():
    adapted = json.loads((FIXTURES / "caddy-adapt.no-retries.json").read_text())
    caddyfile = (FIXTURES / "Caddyfile.no-retries").read_text()
    api = proxy_caddy.judge(adapted, CADDY_SERVICES, "/etc/caddy/Caddyfile", caddyfile).upstreams["api"]
    assert api.port == 8000 and "no retries" in api.problem
    assert api.patch == ("in /etc/caddy/Caddyfile, replace line 5 `reverse_proxy api:8000` with "
                         "`reverse_proxy api:8000 {` `lb_try_duration 5s` `lb_try_interval 250ms` `}`")


def test_caddy_with_lb_retries_or_lb_try_duration_switches_cleanly():
    adapted = json.loads((FIXTURES / "caddy-adapt.retries.json").read_text())
    view = proxy_caddy.judge(adapted, CADDY_SERVICES)
    assert {s: (u.port, u.problem) for s, u in view.upstreams.items()} == {"api": (8000, ""), "admin": (9000, "")}


def test_caddy_patch_inside_an_existing_block():
    caddyfile = ":80 {\n\treverse_proxy /api/* api:8000 {\n\t\theader_up X-Real-IP {remote_host}\n\t}\n}\n"
    assert proxy_caddy.patch("/etc/caddy/Caddyfile", caddyfile, "api:8000") == (
        "in /etc/caddy/Caddyfile, after line 2 (`reverse_proxy /api/* api:8000 {`) add `lb_try_duration 5s` "
        "`lb_try_interval 250ms`")


def _traefik_model(api_labels: dict, healthcheck: dict | None = None, traefik_command=None) -> dict:
    api = {"image": "shop/api:1", "expose": ["8000"], "labels": api_labels}
    if healthcheck:
        api["healthcheck"] = healthcheck
    return {"services": {"traefik": {"image": "traefik:v3", "command": traefik_command or [
        "--providers.docker=true", "--providers.docker.exposedByDefault=false"]}, "api": api,
        "worker": {"image": "shop/api:1"}}}


ROUTED = {"traefik.enable": "true", "traefik.http.routers.shop.rule": "Host(`shop.example`)",
          "traefik.http.routers.shop.entrypoints": "web"}
RETRY = {"traefik.http.middlewares.shop-retry.retry.attempts": "10",
         "traefik.http.routers.shop.middlewares": "shop-retry@docker"}
HEALTH = {"test": ["CMD", "python3", "-c", "import urllib.request as u; u.urlopen('http://localhost:8000/readyz')"]}


PROBE = {"traefik.http.services.shop.loadbalancer.healthcheck.path": "/readyz",
         "traefik.http.services.shop.loadbalancer.healthcheck.interval": "1s"}


def test_traefik_with_a_retry_middleware_a_healthcheck_and_its_own_probe_switches_cleanly():
    view = proxy_traefik.judge(_traefik_model({**ROUTED, **RETRY, **PROBE}, HEALTH), ["api", "worker"])
    assert view.kind == "traefik" and view.follows_health and list(view.upstreams) == ["api"]
    api = view.upstreams["api"]
    assert (api.port, api.problem, api.advice, api.patch) == (8000, "", "", "")


def _added(patch: str) -> dict[str, str]:
    """The labels a patch adds (before its first "; and ")."""
    return dict(label.split("=", 1) for label in re.findall(r"`([^`]+)`", patch.split(" add ")[1].split("; and ")[0]))


def test_traefik_without_retries_or_health_gets_the_labels_to_add():
    api = proxy_traefik.judge(_traefik_model(ROUTED), ["api"], "/srv/shop/docker-compose.yml",
                              ready_path="/readyz").upstreams["api"]
    assert "no `retry` middleware on its router(s) shop" in api.problem and "no healthcheck" in api.problem
    assert "no Traefik health check on its service api" in api.problem
    assert api.patch.startswith("in /srv/shop/docker-compose.yml, under services.api.labels add "
                                "`traefik.http.middlewares.api-retry.retry.attempts=10`")
    assert "`traefik.http.routers.shop.middlewares=api-retry`" in api.patch and "healthcheck:" in api.patch
    assert "`--serversTransport.forwardingTimeouts.dialTimeout=1s`" in api.patch, "the model's Traefik has none"
    patched = {**ROUTED, **_added(api.patch)}
    assert proxy_traefik.judge(_traefik_model(patched, HEALTH), ["api"]).upstreams["api"].problem == ""


def test_traefik_s_own_health_check_is_patched_on_the_service_traefik_names():
    """A stopped container stays in Traefik's rotation until its reload, Docker health or not: the probe
    labels are asked for, on the router's service (else the one the labels define), at the ready path."""
    routed = {**ROUTED, **RETRY, "traefik.http.routers.shop.service": "shop-svc"}
    api = proxy_traefik.judge(_traefik_model(routed, HEALTH), ["api"], ready_path="/api/ready").upstreams["api"]
    assert api.problem == "", "still switched start-first: recreating would fail far more"
    assert "no Traefik health check on its service shop-svc" in api.advice and api.advice.endswith(api.patch)
    assert _added(api.patch) == {"traefik.http.services.shop-svc.loadbalancer.healthcheck.path": "/api/ready",
                                 "traefik.http.services.shop-svc.loadbalancer.healthcheck.interval": "1s",
                                 "traefik.http.services.shop-svc.loadbalancer.healthcheck.timeout": "3s"}
    port_named = {**ROUTED, **RETRY, "traefik.http.services.web.loadbalancer.server.port": "8000"}
    web = proxy_traefik.judge(_traefik_model(port_named, HEALTH), ["api"], ready_path="/r").upstreams["api"]
    assert "traefik.http.services.web.loadbalancer.healthcheck.path" in _added(web.patch)
    patched = proxy_traefik.judge(_traefik_model({**routed, **_added(api.patch)}, HEALTH), ["api"]).upstreams["api"]
    assert (patched.problem, patched.advice) == ("", "")


def test_traefik_s_probe_path_is_never_guessed():
    api = proxy_traefik.judge(_traefik_model({**ROUTED, **RETRY}, HEALTH), ["api"]).upstreams["api"]
    assert "healthcheck.path=<ready path>`" in api.patch and "/readyz" not in api.patch
    assert "the app's ready path is not known here" in api.patch


def test_a_traefik_started_with_a_dial_timeout_is_not_told_to_add_one():
    command = ["--providers.docker", "--serversTransport.forwardingTimeouts.dialTimeout=1s"]
    api = proxy_traefik.judge(_traefik_model({**ROUTED, **RETRY}, HEALTH, command), ["api"], ready_path="/r")
    assert "dialTimeout" not in api.upstreams["api"].patch


def test_traefik_port_label_wins_and_a_service_not_enabled_is_not_routed():
    labels = {**ROUTED, **RETRY, "traefik.http.services.shop.loadbalancer.server.port": "8080",
              "traefik.http.services.shop.loadbalancer.healthcheck.path": "/readyz"}
    assert proxy_traefik.judge(_traefik_model(labels), ["api"]).upstreams["api"].port == 8080
    off = {k: v for k, v in ROUTED.items() if k != "traefik.enable"}
    assert proxy_traefik.judge(_traefik_model(off), ["api"]).upstreams == {}
    assert "api" in proxy_traefik.judge(_traefik_model(off, traefik_command=["--providers.docker"]), ["api"]).upstreams


def test_expose_ports_count_as_the_container_s_ports():
    assert compose_model.container_ports({"expose": ["8000", "9000/tcp"]}) == [8000, 9000]
    assert compose_model.container_ports({"ports": [{"target": 80, "published": "8080"}], "expose": ["80"]}) == [80]
    assert compose_model.container_ports({}) == []


def test_proxy_tools_argv():
    assert proxy_cmd.nginx_dump("p1") == ["docker", "exec", "--interactive", "p1", "nginx", "-T"]
    assert proxy_cmd.caddy_adapt("p1", "/etc/caddy/Caddyfile") == [
        "docker", "exec", "--interactive", "p1", "caddy", "adapt", "--config", "/etc/caddy/Caddyfile",
        "--adapter", "caddyfile"]
    assert proxy_cmd.read_file("p1", "/etc/caddy/Caddyfile") == ["docker", "exec", "--interactive", "p1", "cat",
                                                                 "/etc/caddy/Caddyfile"]
    assert proxy_cmd.traefik_version("p1") == ["docker", "exec", "--interactive", "p1", "traefik", "version"]


def test_uwsgi_pass_through_an_upstream_block_and_its_own_retries_setting():
    text = ("http { upstream django { server web:8000; } uwsgi_next_upstream off;"
            " server { location / { uwsgi_pass django; } } }")
    web = proxy_nginx.judge_dump(text, ["web"]).upstreams["web"]
    assert web.port == 8000 and "upstream block 'django'" in web.problem
    assert "`uwsgi_pass django;`" in web.patch and "`set $web_upstream web:8000;` `uwsgi_pass $web_upstream;`" in web.patch
    fixed = ("http { uwsgi_next_upstream off; server { location / { resolver 127.0.0.11 valid=5s;"
             " set $w web:8000; uwsgi_pass $w; } } }")
    assert "`uwsgi_next_upstream off`" in proxy_nginx.judge_dump(fixed, ["web"]).upstreams["web"].problem
    assert proxy_nginx.judge_dump(fixed.replace("uwsgi_next_upstream off;", "proxy_next_upstream off;"),
                                  ["web"]).upstreams["web"].problem == ""
