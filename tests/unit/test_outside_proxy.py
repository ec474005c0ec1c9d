"""A proxy another compose project runs in front of the stack (a shared Traefik on an external network):
when discovery looks for it, which containers it asks, which it names, and the proposal's lines."""

from pathlib import Path

import pytest

from procedures.adopt import outside_proxy
from procedures.adopt.outside_proxy import OutsideProxy
from procedures.adopt.proposal import known_ready_path, propose
from procedures.adopt.roles import Roles
from procedures.commands import docker as docker_cmd

pytestmark = pytest.mark.unit

# full-stack-fastapi-template's shape, as `docker compose config` renders it.
MODEL = {"services": {"backend": {"image": "app-backend:latest", "networks": {"default": None, "traefik-public": None},
                                  "labels": {"traefik.enable": "true",
                                             "traefik.http.routers.app-backend-https.rule": "Host(`api.app`)"},
                                  "healthcheck": {"test": ["CMD", "curl", "-f",
                                                           "http://localhost:8000/api/v1/utils/health-check/"]}},
                      "db": {"image": "postgres:17", "networks": {"default": None}}},
         "networks": {"default": {"name": "app_default"},
                      "traefik-public": {"name": "traefik-public", "external": True}}}


def roles(**kw) -> Roles:
    return Roles(**{"app": ["backend"], "api": "backend", "database": "db", **kw})


def identity(name: str, project: str, image: str = "busybox", running: bool = True) -> dict:
    return {"name": f"/{name}", "image": image, "running": running, "project": project}


def test_asked_only_without_a_proxy_service_and_with_a_sign_of_one_outside():
    assert outside_proxy.wanted(MODEL, roles())
    assert not outside_proxy.wanted(MODEL, roles(proxy="traefik")), "the project's own proxy is read instead"
    unlabelled = {**MODEL, "services": {**MODEL["services"], "backend": {"networks": {"traefik-public": None}}}}
    assert outside_proxy.wanted(unlabelled, roles()), "an external network is where a shared proxy sits"
    alone = {"services": {"backend": {"networks": {"default": None}}}, "networks": {"default": {"name": "app_default"}}}
    assert not outside_proxy.wanted(alone, roles())


def test_the_app_s_networks_by_the_engine_s_names_external_first():
    assert outside_proxy.app_networks(MODEL, ["backend"]) == ["traefik-public", "app_default"]


def test_candidates_are_running_containers_of_other_projects_traefik_images_first():
    members = {"traefik-public": [identity("app-backend-1", "app"), identity("old-backend-1", "old"),
                                  identity("edge-traefik-1", "edge", "traefik:3.6"),
                                  identity("gone-traefik-1", "gone", "traefik:3.6", running=False)],
               "app_default": [identity("app-db-1", "app"), identity("edge-traefik-1", "edge", "traefik:3.6"),
                               identity("loose", "", "my/proxy")]}
    named, rest = outside_proxy.candidates(members, "app")
    assert named == [("edge-traefik-1", "edge", "traefik-public")]
    assert rest == [("old-backend-1", "old", "traefik-public"), ("loose", "", "app_default")]


def test_the_first_that_answers_is_chosen_and_the_others_named():
    assert outside_proxy.choose([]) is None
    one = outside_proxy.choose([("edge-traefik-1", "edge", "traefik-public")])
    assert one == OutsideProxy("edge-traefik-1", "edge", "traefik-public")
    two = outside_proxy.choose([("a-traefik-1", "a", "net"), ("b-traefik-1", "b", "net")])
    assert (two.container, two.others) == ("a-traefik-1", ("b-traefik-1",))


def test_the_read_only_questions_argv():
    assert docker_cmd.network_containers("traefik-public") == [
        "docker", "network", "inspect", "--format", "{{json .Containers}}", "traefik-public"]
    assert docker_cmd.container_inspect("a") == ["docker", "inspect", "--type", "container", "a"]


def _proposal(outside: OutsideProxy | None) -> str:
    return propose(MODEL, roles(engine="postgres"), "app", [Path("/srv/app/compose.yml")],
                   Path("/srv/app/docker-compose.opsuite.yml"), outside=outside)


def test_the_proposal_names_the_outside_proxy_and_why():
    lines = _proposal(OutsideProxy("edge-traefik-1", "edge", "traefik-public")).splitlines()
    container = next(line for line in lines if line.startswith("proxy_container ="))
    assert container.startswith('proxy_container = "edge-traefik-1"   # the Traefik of compose project edge on the '
                                "network traefik-public")
    assert "GUESS" not in container
    assert next(line for line in lines if line.startswith("proxy =")).startswith('proxy = ""   # no proxy service')
    guessed = _proposal(OutsideProxy("a-traefik-1", "a", "net", ("b-traefik-1",)))
    assert "# GUESS: `traefik version` answered in b-traefik-1 too" in guessed
    assert "proxy_container" not in _proposal(None)


def test_the_ready_path_is_known_only_from_the_api_s_healthcheck():
    assert known_ready_path(MODEL, roles()) == "/api/v1/utils/health-check/"
    bare = {**MODEL, "services": {**MODEL["services"], "backend": {"image": "x"}}}
    assert known_ready_path(bare, roles()) is None, "no guess (/readyz) where the app shows none"
