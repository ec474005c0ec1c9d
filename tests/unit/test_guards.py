import pytest

from procedures import runner
from procedures.errors import UnsafeOperation
from procedures.guards import refuse_volume_removal

pytestmark = pytest.mark.unit

COMPOSE = ["docker", "compose", "--project-name", "p", "--file", "a.yml"]


@pytest.mark.parametrize("argv", [
    COMPOSE + ["down", "-v"],
    COMPOSE + ["down", "--volumes"],
    COMPOSE + ["down", "--remove-orphans", "-v"],
    COMPOSE + ["down", "-tv"],
    COMPOSE + ["down", "--volumes=true"],
    ["docker", "compose", "down", "-v"],
    COMPOSE + ["rm", "-fsv"],
    ["docker", "volume", "rm", "zenops_pgdata"],
    ["docker", "volume", "remove", "zenops_pgdata"],
    ["docker", "volume", "prune", "-f"],
    ["docker", "system", "prune", "--volumes"],
    ["docker", "rm", "-fv", "db-1"],
    ["docker", "container", "rm", "-v", "db-1"],
    ["docker", "volume", "rm", "opsuite-restore-x", "zenops_pgdata"],
    ["docker", "volume", "rm", "--force", "opsuite-restore-x"],
    ["docker", "volume", "prune", "--filter", "name=opsuite-restore-"],
    ["docker", "volume", "rm"],
])
def test_volume_removal_is_refused(argv):
    with pytest.raises(UnsafeOperation, match="refused"):
        refuse_volume_removal(argv)


@pytest.mark.parametrize("argv", [
    COMPOSE + ["down"],
    COMPOSE + ["down", "--remove-orphans"],
    COMPOSE + ["stop", "api"],
    COMPOSE + ["run", "--rm", "-v", "backups:/backups", "backup"],
    COMPOSE + ["run", "--rm", "--volume", "x:/x", "backup", "rm", "-v", "/tmp/f"],
    COMPOSE + ["up", "--detach", "api"],
    ["docker", "volume", "inspect", "zenops_pgdata"],
    ["docker", "volume", "create", "zenops_pgdata"],
    ["docker", "rm", "-f", "restore-test-1"],
    ["pg_dump", "-Fc"],
    ["docker", "volume", "rm", "opsuite-restore-zen-20261124T093000Z"],
])
def test_safe_commands_pass(argv):
    refuse_volume_removal(argv)


def test_runner_refuses_before_anything_runs(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("subprocess was started for a refused command")

    monkeypatch.setattr(runner.subprocess, "run", must_not_run)
    with pytest.raises(UnsafeOperation):
        runner.run(COMPOSE + ["down", "-v"])
    with pytest.raises(UnsafeOperation):
        runner.run(["docker", "volume", "rm", "zenops_pgdata"])
