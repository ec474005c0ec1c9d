"""The one choice between SDK and CLI reads, and how each read answers a missing object on either path
(the engine itself is exercised in tests/stack/test_docker_reads.py)."""

import json

import docker
import pytest
import requests

from procedures import docker_api, runner
from procedures.errors import CommandFailed

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("environ, context, sdk", [
    ({}, None, True),
    ({}, "default", True),
    ({"DOCKER_HOST": "unix:///var/run/docker.sock"}, None, True),
    ({"DOCKER_HOST": "tcp://10.0.0.2:2376"}, None, True),
    ({"DOCKER_HOST": "ssh://deploy@box"}, None, False),  # the CLI's ssh transport: the SDK's differs
    ({}, "colima", False),  # a context the SDK cannot read
    ({"DOCKER_CONTEXT": "remote"}, None, False),
    ({"DOCKER_CONTEXT": "default"}, "colima", True),  # the variable wins over the config file, as in the CLI
    ({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, "colima", True),  # DOCKER_HOST wins over the file
    ({"OPSUITE_DOCKER_READS": "cli"}, None, False),
    ({"OPSUITE_DOCKER_READS": "sdk", "DOCKER_HOST": "ssh://deploy@box"}, None, True),
])
def test_sdk_only_where_it_reaches_the_clis_engine(environ, context, sdk, tmp_path):
    if context:
        (tmp_path / "config.json").write_text(json.dumps({"currentContext": context}))
    assert docker_api.sdk_reaches_engine({"DOCKER_CONFIG": str(tmp_path), **environ}) is sdk


class Gone:
    """An engine that has none of what is asked."""

    def __getattr__(self, name):
        def missing(*args, **kwargs):
            raise docker.errors.NotFound(f"404 {name}", explanation=f"No such object: {args[0] if args else ''}")
        return missing


class Unreachable:
    def __getattr__(self, name):
        def fails(*args, **kwargs):
            raise requests.ConnectionError("Connection refused")
        return fails


@pytest.fixture
def sdk(monkeypatch):
    monkeypatch.setattr(docker_api, "reads_through_sdk", lambda: True)
    monkeypatch.setattr(runner, "run", lambda *a, **k: pytest.fail(f"the CLI ran: {a}"))
    return lambda engine: monkeypatch.setattr(docker_api, "_client", lambda: engine)


@pytest.fixture
def cli(monkeypatch):
    """A CLI that answers every question as docker does for a missing object."""
    monkeypatch.setattr(docker_api, "reads_through_sdk", lambda: False)

    def run(argv, *, limit, check=True, **kwargs):
        noun = "volume" if argv[1] == "volume" else "object"
        done = runner.Completed(argv, 1, "", f"Error: No such {noun}: {argv[-1]}\n", 0.0)
        if check:
            raise CommandFailed(argv, 1, done.stderr)
        return done
    monkeypatch.setattr(runner, "run", run)


MISSING_ANSWERS = [
    (lambda: docker_api.container_running("c"), False),
    (lambda: docker_api.health_status("c"), ""),
    (lambda: docker_api.container_facts(["c"]), []),
    (lambda: docker_api.image("i"), None),
    (lambda: docker_api.network_containers("n"), None),
]
MISSING_FAILURES = [
    lambda: docker_api.container_mounts("c"),
    lambda: docker_api.container_command("c"),
    lambda: docker_api.container_healthcheck("c"),
    lambda: docker_api.image_references(["c"]),
    lambda: docker_api.container_image_ids(["c"]),
    lambda: docker_api.container_identities(["c"]),
    lambda: docker_api.image_id("i"),
]


@pytest.mark.parametrize("read, answer", MISSING_ANSWERS)
def test_a_missing_object_is_answered_by_the_sdk_as_by_the_cli(read, answer, sdk, monkeypatch):
    sdk(Gone())
    assert read() == answer


@pytest.mark.parametrize("read, answer", MISSING_ANSWERS)
def test_a_missing_object_is_answered_by_the_cli(read, answer, cli):
    assert read() == answer


@pytest.mark.parametrize("read", MISSING_FAILURES)
def test_a_read_that_needs_its_object_fails_as_the_cli_would(read, sdk):
    sdk(Gone())
    with pytest.raises(CommandFailed) as failed:
        read()
    assert failed.value.argv[0] == "docker" and "no such" in failed.value.stderr_tail.lower()


@pytest.mark.parametrize("read", MISSING_FAILURES)
def test_the_cli_path_fails_the_same(read, cli):
    with pytest.raises(CommandFailed):
        read()


class NoVolumes:
    def inspect_volume(self, name):
        raise docker.errors.NotFound("404", explanation=f"get {name}: no such volume")  # the daemon's words


def test_a_missing_volume_is_none_through_the_sdk(sdk):
    sdk(NoVolumes())
    assert docker_api.volume("v") is None


def test_a_missing_volume_is_none_through_the_cli(cli):
    assert docker_api.volume("v") is None


def test_an_unreachable_engine_is_a_command_failure_naming_the_cli_form(sdk):
    sdk(Unreachable())
    with pytest.raises(CommandFailed) as failed:
        docker_api.volume("v")  # not "missing": the caller must not take it for a first install
    assert failed.value.argv == ["docker", "volume", "inspect", "v"] and "refused" in failed.value.stderr_tail
    assert docker_api.container_running("c") is False  # as `docker inspect` run with check=False said
