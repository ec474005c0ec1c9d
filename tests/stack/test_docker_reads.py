"""docker_api's reads against the real engine, through the SDK and through the CLI fallback: the same
answers for a container, volume, network and image that exist, and for ones that do not."""

import uuid

import docker
import pytest

from procedures import docker_api
from procedures.errors import CommandFailed

pytestmark = [pytest.mark.stack]
IMAGE = "opsuite-local/debian:bookworm"


@pytest.fixture(params=["sdk", "cli"])
def path(request, monkeypatch):
    monkeypatch.setattr(docker_api, "reads_through_sdk", lambda: request.param == "sdk")
    return request.param


@pytest.fixture(scope="module")
def engine():
    """A running container of a fake compose service (healthcheck, labels, a volume, a network) and a
    stopped one; all removed after."""
    client = docker.from_env()
    project = f"opsreads-{uuid.uuid4().hex[:8]}"
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": "api",
              "com.docker.compose.oneoff": "False", "com.docker.compose.config-hash": "abc123"}
    volume = client.volumes.create(f"{project}_data", labels={"io.opsuite.project": project})
    network = client.networks.create(f"{project}_default", labels={"com.docker.compose.project": project})
    running = client.containers.run(
        IMAGE, ["sleep", "infinity"], name=f"{project}-api-1", detach=True, labels=labels, network=network.name,
        volumes={volume.name: {"bind": "/data", "mode": "rw"}},
        healthcheck={"test": ["CMD", "true"], "interval": 1_000_000_000, "timeout": 2_000_000_000})
    stopped = client.containers.create(IMAGE, ["true"], name=f"{project}-api-2", labels=labels)
    try:
        yield {"project": project, "running": running, "stopped": stopped, "volume": volume.name,
               "network": network.name}
    finally:
        for container in (running, stopped):
            container.remove(force=True)
        network.remove()
        client.api.remove_volume(volume.name)  # the test's own volume, made above


def test_a_present_container_is_read(path, engine):
    running, stopped = engine["running"], engine["stopped"]
    assert docker_api.container_running(running.name) is True
    assert docker_api.container_running(stopped.name) is False
    mounts = docker_api.container_mounts(running.name)
    assert [(m["Name"], m["Destination"]) for m in mounts] == [(engine["volume"], "/data")]
    assert docker_api.container_command(running.name) == ["sleep", "infinity"]
    assert docker_api.container_healthcheck(running.name)["Test"] == ["CMD", "true"]
    assert docker_api.container_healthcheck(stopped.name) == {}
    assert docker_api.health_status(running.name) in ("starting", "healthy")
    assert docker_api.health_status(stopped.name) == ""
    assert docker_api.image_references([running.name, stopped.name]) == [IMAGE, IMAGE]
    assert docker_api.container_image_ids([running.name]) == [running.image.id]
    facts = docker_api.container_facts([running.name, "opsreads-no-such-container"])
    assert [(f["id"], f["state"], f["config_hash"]) for f in facts] == [(running.id, "running", "abc123")]
    assert any(facts[0]["addresses"])
    identity = docker_api.container_identities([running.name])
    assert identity == [{"name": f"/{running.name}", "image": IMAGE, "running": True, "project": engine["project"]}]


def test_containers_are_found_by_filter(path, engine):
    project, running, stopped = engine["project"], engine["running"], engine["stopped"]
    short = lambda ids: sorted(i[:12] for i in ids)  # noqa: E731
    assert docker_api.service_containers(project, "api") == [running.id[:12]]  # as `docker ps --quiet` prints
    assert short(docker_api.service_containers(project, "api", stopped_too=True)) == short([running.id, stopped.id])
    assert docker_api.service_containers(project, "worker") == []
    assert sorted(docker_api.container_names(f"{project}-api-")) == [running.name, stopped.name]
    assert docker_api.container_names(f"{project}-none-") == []
    assert docker_api.containers_using_volume(engine["volume"]) == [running.name]
    assert sorted(docker_api.project_container_ids(project)) == short([running.id, stopped.id])


def test_volume_network_image_and_engine_are_read(path, engine):
    assert docker_api.volume(engine["volume"])["Labels"] == {"io.opsuite.project": engine["project"]}
    assert docker_api.project_network_names(engine["project"]) == [engine["network"]]
    members = docker_api.network_containers(engine["network"])
    assert [m["Name"] for m in members.values()] == [engine["running"].name]
    assert docker_api.image(IMAGE)["Id"] == docker_api.image_id(IMAGE) == engine["running"].image.id
    assert docker_api.server_version()["ApiVersion"]
    assert docker_api.docker_root_dir().startswith("/")


def test_missing_objects_are_answered_as_the_cli_did(path):
    gone = f"opsreads-missing-{uuid.uuid4().hex[:8]}"
    assert docker_api.container_running(gone) is False
    assert docker_api.health_status(gone) == ""
    assert docker_api.container_facts([gone]) == []
    assert docker_api.volume(gone) is None
    assert docker_api.network_containers(gone) is None
    assert docker_api.image(f"{gone}:1") is None
    assert docker_api.project_container_ids(gone) == [] and docker_api.project_network_names(gone) == []
    for read in (docker_api.container_mounts, docker_api.container_command, docker_api.container_healthcheck,
                 lambda ref: docker_api.image_references([ref]), lambda ref: docker_api.image_id(f"{ref}:1")):
        with pytest.raises(CommandFailed, match="(?i)no such"):
            read(gone)
