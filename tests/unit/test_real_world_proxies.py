"""The proxy readers on the proxy configs real apps ship (tests/fixtures/real-world/, sources in its INDEX.md):
each finds the upstream, with its port, of every app service the proxy forwards to, and a config that
cannot switch cleanly gets its problem and a patch naming the file. nginx through crossplane, Caddy
through its own `caddy adapt` (in the local Caddy image, no network), Traefik from the rendered labels."""

import json

import pytest

from procedures import runner
from procedures.adopt import compose_rules
from procedures.stack import proxy_caddy, proxy_nginx, proxy_traefik
from testkit.real_world import CORPUS, PLAIN, TABLE

CADDY_IMAGE = "opsuite-local/caddy-standin:bookworm"

# case -> (the config file as shipped, the services it forwards to -> port): written by reading each file.
NGINX = {
    "lemmy": ("nginx.conf", {"lemmy": 8536}),  # upstream blocks, and a proxy_pass through a `set` variable
    "mattermost": ("nginx/conf.d/default.conf", {"mattermost": 8065}),  # `upstream backend { server mattermost:8065; }`
    "taiga": ("taiga-gateway/taiga.conf", {"taiga-back": 8000}),  # proxy_pass with a path after the address
    "nextcloud": ("web/nginx.conf", {"app": 9000}),  # fastcgi_pass to an upstream block
}
# freshrss names no port in compose (Traefik takes the image's EXPOSE, which the model does not show): 0,
# and the problem asks for the port label.
TRAEFIK = {"miniflux-traefik": {"miniflux": 8080}, "freshrss": {"freshrss": 0}}


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in PLAIN:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.unit
@pytest.mark.parametrize("case", sorted(NGINX))
def test_nginx_configs_as_shipped_name_every_app_upstream(case):
    path, expected = NGINX[case]
    config = CORPUS / case / path
    view = proxy_nginx.judge_dump(config.read_text(), TABLE[case]["app"] + [s for s in expected if s not in TABLE[case]["app"]])
    assert {s: u.port for s, u in view.upstreams.items()} == expected
    for upstream in view.upstreams.values():
        # Every shipped config names its service once, at nginx's start: a recreate would keep the old address.
        assert "once, at its start" in upstream.problem and upstream.patch and "line" in upstream.patch, upstream


@pytest.mark.compose
@pytest.mark.parametrize("case", sorted(TRAEFIK))
def test_traefik_labels_as_shipped_name_every_app_upstream(case):
    model = compose_rules.view([CORPUS / case]).model  # the files compose reads there (freshrss: COMPOSE_FILE)
    view = proxy_traefik.judge(model, TABLE[case]["app"], "the compose file")
    assert {s: u.port for s, u in view.upstreams.items()} == TRAEFIK[case]
    # Neither ships a retry middleware: the fix names the labels to add to its own compose file.
    assert all("traefik.http.middlewares" in u.patch for u in view.upstreams.values())
    assert all("loadbalancer.server.port" in u.problem for u in view.upstreams.values() if not u.port)


@pytest.mark.compose
def test_a_caddyfile_as_shipped_is_read_by_caddy_itself():
    caddyfile = CORPUS / "miniflux-caddy" / "Caddyfile"
    adapted = runner.run(["docker", "run", "--rm", "--network", "none", "--pull", "never", "-v", f"{caddyfile}:/Caddyfile:ro",
                          CADDY_IMAGE, "caddy", "adapt", "--config", "/Caddyfile"], limit="command")
    view = proxy_caddy.judge(json.loads(adapted.stdout), ["miniflux"], str(caddyfile), caddyfile.read_text())
    assert view.upstreams["miniflux"].port == 8080
    assert "no retries" in view.upstreams["miniflux"].problem
    assert "replace line 2 `reverse_proxy miniflux:8080`" in view.upstreams["miniflux"].patch
