"""Which image each service built on the server is named by at adoption, and the refusal when a serving
one has none (tests/stack/test_adopt_built.py adopts a real stack built on the server)."""

import json
from dataclasses import dataclass
from subprocess import CompletedProcess
from types import SimpleNamespace

import pytest

from procedures import docker_api
from procedures.adopt import release_images
from procedures.errors import ConfigError

pytestmark = pytest.mark.unit
MODEL = {"services": {"api": {"build": "."}, "migrate": {"build": "."}, "watchdog": {"build": "w"},
                      "db": {"image": "postgres:16"}}}


@dataclass
class Engine:
    """Images by name, containers' image ids by service; records the `docker tag` calls."""
    images: dict
    running: dict
    tagged: list

    def run(self, argv, limit=None, check=True):
        if argv[:2] == ["docker", "tag"]:
            self.tagged.append(tuple(argv[2:]))
            return CompletedProcess(argv, 0, "", "")
        if argv[:3] == ["docker", "image", "inspect"]:
            found = self.images.get(argv[-1], "")
            return CompletedProcess(argv, 0 if found else 1, json.dumps([{"Id": found}]) if found else "", "")
        if argv[:2] == ["docker", "ps"]:  # a service's containers: here named by the image id they run
            service = next(a for a in argv if a.startswith("label=com.docker.compose.service=")).rsplit("=", 1)[1]
            return CompletedProcess(argv, 0, "\n".join(self.running.get(service, [])), "")
        if argv[:4] == ["docker", "inspect", "--type", "container"]:  # a container, named by its image's id
            return CompletedProcess(argv, 0, json.dumps([{"Image": argv[-1]}]), "")
        raise AssertionError(f"not a question of this test: {argv}")


def adopt_names(monkeypatch, images, running):
    engine = Engine(images, running, [])
    monkeypatch.setattr(release_images, "runner", SimpleNamespace(run=engine.run))
    monkeypatch.setattr(docker_api, "runner", SimpleNamespace(run=engine.run))  # its CLI reads
    monkeypatch.setattr(docker_api, "reads_through_sdk", lambda: False)
    monkeypatch.setattr(release_images, "render_app_model", lambda stack, tag: MODEL)
    config = SimpleNamespace(stack=SimpleNamespace(project="shop"), build=None,
                             services=SimpleNamespace(serving=["api", "reverse-proxy"]))
    return release_images.name_serving_images(SimpleNamespace(config=config, tag="v1")), engine.tagged


def test_the_running_image_else_composes_own_is_named_by_the_tag_and_an_unbuilt_extra_is_left(monkeypatch):
    named, tagged = adopt_names(monkeypatch, {"shop-migrate": "sha256:m"}, {"api": ["sha256:a"]})
    assert tagged == [("sha256:a", "shop-api:v1"), ("sha256:m", "shop-migrate:v1")]
    assert [n["image"] for n in named] == ["shop-api:v1", "shop-migrate:v1", None]
    assert "its container runs" in named[0]["from"] and "compose built as shop-migrate" in named[1]["from"]


def test_a_name_already_there_is_kept(monkeypatch):
    named, tagged = adopt_names(monkeypatch, {"shop-api:v1": "sha256:a", "shop-migrate:v1": "sha256:m"}, {})
    assert tagged == [] and named[0]["from"] == "already named so"


def test_a_serving_service_with_no_image_is_refused_naming_the_build(monkeypatch):
    with pytest.raises(ConfigError, match=r"api is built on the server.*docker compose build api.* at v1"):
        adopt_names(monkeypatch, {}, {})


def test_two_running_images_of_one_service_are_refused(monkeypatch):
    with pytest.raises(ConfigError, match="2 different images"):
        adopt_names(monkeypatch, {}, {"api": ["sha256:a", "sha256:b"]})
