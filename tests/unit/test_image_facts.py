"""What discovery reads from the app's images: which image, and which start file migrates."""

import json
from types import SimpleNamespace

import pytest

from procedures import docker_api
from procedures.adopt import image_facts

pytestmark = pytest.mark.unit


def _fake_engine(monkeypatch, config: dict, files: dict[str, str]):
    """The CLI's reads (docker_api's fallback) answering `image inspect` with config and `cat PATH` with
    files[PATH]; records images asked."""
    asked = []

    def run(argv, **_):
        if argv[:3] == ["docker", "image", "inspect"]:
            asked.append(argv[-1])
            return SimpleNamespace(returncode=0, stdout=json.dumps([{"Config": config}]))
        if "cat" in argv:
            return SimpleNamespace(returncode=0, stdout=files.get(argv[-1], ""))
        return SimpleNamespace(returncode=0, stdout="manage.py\n")

    monkeypatch.setattr(image_facts.runner, "run", run)
    monkeypatch.setattr(docker_api, "reads_through_sdk", lambda: False)
    return asked


def test_a_service_built_on_the_server_is_read_under_the_name_compose_gave_its_image(monkeypatch):
    """`build:` with no `image:` (healthchecks' web): compose names the image <project>-<service>."""
    asked = _fake_engine(monkeypatch, {"Cmd": ["python3"]}, {})
    found = image_facts.read_images({"web": {"build": {"context": ".."}}}, ["web"], project="hc")
    assert asked == ["hc-web"]
    assert found["web"]["files"] == ["manage.py"]


def test_a_named_image_is_read_as_named(monkeypatch):
    asked = _fake_engine(monkeypatch, {"Cmd": ["python3"]}, {})
    image_facts.read_images({"api": {"image": "shop/api:1.2", "build": {"context": "."}}}, ["api"], project="hc")
    assert asked == ["shop/api:1.2"]


def test_a_server_config_the_image_starts_with_is_read_for_migration_steps(monkeypatch):
    """uwsgi's ini (healthchecks: `hook-pre-app = exec:./manage.py migrate`) migrates on every start,
    as an entrypoint script would; its comments do not count."""
    ini = ("[uwsgi]\n; manage.py migrate in a comment\n# Note: manage.py migrate also runs checks\n"
           "hook-pre-app = exec:./manage.py migrate\nattach-daemon = ./manage.py sendalerts\n")
    _fake_engine(monkeypatch, {"Cmd": ["uwsgi", "/opt/app/docker/uwsgi.ini"]}, {"/opt/app/docker/uwsgi.ini": ini})
    facts = image_facts.read_images({"web": {"image": "hc:1"}}, ["web"])["web"]
    assert facts["entrypoint"] == {"script": "/opt/app/docker/uwsgi.ini",
                                   "migrates": ["hook-pre-app = exec:./manage.py migrate"], "variables": []}
