"""Discovery flags data an app service keeps on a bind mount: no volume backup sees it."""

import pytest

from procedures.adopt.bind_mounts import bind_mounted_data
from procedures.adopt.risks import find_risks
from procedures.adopt.roles import Roles

pytestmark = pytest.mark.unit

# As `docker compose config --format json` renders `./data:/app/data`, `./app.conf:/etc/app.conf:ro`,
# the docker socket and a named volume.
MODEL = {"services": {
    "app": {"image": "shop/app:1.0", "restart": "always", "volumes": [
        {"type": "bind", "source": "/srv/shop/data", "target": "/app/data", "bind": {"create_host_path": True}},
        {"type": "bind", "source": "/srv/shop/app.conf", "target": "/etc/app.conf", "read_only": True},
        {"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock"},
        {"type": "volume", "source": "uploads", "target": "/app/uploads"}]},
    "proxy": {"image": "nginx:1.25", "restart": "always", "volumes": [
        {"type": "bind", "source": "/srv/shop/certs", "target": "/certs"}]},
}}


def test_only_writable_bind_mounts_of_app_services_are_data():
    assert bind_mounted_data(MODEL, ["app"]) == [{"service": "app", "source": "/srv/shop/data", "target": "/app/data"}]
    assert bind_mounted_data(MODEL, ["missing"]) == []


def test_the_risk_names_the_directory_and_the_fix():
    risks = find_risks(MODEL, Roles(app=["app"], proxy="proxy"))
    flagged = [r for r in risks if "bind mount" in r.what]
    assert [r.what for r in flagged] == ["data in /srv/shop/data (app: /app/data) is a bind mount and not backed up"]
    assert '[backup] paths ("/srv/shop/data")' in flagged[0].fix


def test_an_app_without_bind_mounts_is_not_flagged():
    model = {"services": {"app": {"image": "shop/app:1.0", "volumes": [
        {"type": "volume", "source": "uploads", "target": "/app/uploads"}]}}}
    assert not [r for r in find_risks(model, Roles(app=["app"])) if "bind mount" in r.what]
