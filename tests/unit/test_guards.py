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
    ["docker", "compose", "--project-directory", "/srv/zen", "--dry-run", "down", "--volumes"],
    ["docker", "compose", "--ansi", "never", "--progress=plain", "--parallel", "1", "down", "-v"],
    ["docker", "compose", "--compatibility", "--all-resources", "--profile", "*", "rm", "-v"],
    ["docker", "compose", "down", "--volumes=1"],
    ["docker", "compose", "down", "-v=true"],
    ["docker", "compose", "down", "--rmi", "local", "-tv", "5"],
    ["docker", "rm", "-v", "db-1"],
    ["docker", "rm", "db-1", "-fv"],
    ["docker", "container", "remove", "-lv", "db-1"],
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


# Issue 14, item 8: spellings the guard used to let through. Each is refused by what it means.
@pytest.mark.parametrize("argv", [
    ["docker", "--context", "prod", "volume", "rm", "zenops_pgdata"],
    ["docker", "--context=prod", "volume", "rm", "zenops_pgdata"],
    ["docker", "-c", "prod", "volume", "prune", "-f"],
    ["docker", "-H", "ssh://ops@db", "volume", "rm", "zenops_pgdata"],
    ["docker", "-Htcp://db:2376", "--tlsverify", "volume", "remove", "zenops_pgdata"],
    ["docker", "--log-level", "debug", "-D", "system", "prune", "--volumes"],
    ["docker", "--config", "/etc/docker", "compose", "down", "-v"],
    ["docker", "compose", "--log-level", "debug", "down", "-v"],
    ["docker", "compose", "-f", "x", "-v", "down"],
    ["sudo", "docker", "volume", "rm", "zenops_pgdata"],
    ["sudo", "-u", "root", "-E", "docker", "compose", "down", "-v"],
    ["sudo", "--user=root", "DOCKER_HOST=unix:///run/docker.sock", "docker", "volume", "prune", "-f"],
    ["env", "DOCKER_CONTEXT=prod", "docker", "volume", "rm", "zenops_pgdata"],
    ["env", "-i", "-u", "HOME", "A=1", "docker", "compose", "down", "-v"],
    ["env", "-", "docker", "volume", "rm", "zenops_pgdata"],
    ["env", "-S", "docker volume rm zenops_pgdata"],
    ["nice", "-n", "10", "docker", "volume", "rm", "zenops_pgdata"],
    ["nohup", "docker", "compose", "down", "-v"],
    ["timeout", "60", "docker", "compose", "down", "-v"],
    ["timeout", "-s", "KILL", "-k", "5", "60", "docker", "volume", "prune"],
    ["sudo", "env", "A=1", "nice", "timeout", "9", "/usr/bin/docker", "volume", "rm", "zenops_pgdata"],
    ["sh", "-c", "docker compose down -v"],
    ["bash", "-euo", "pipefail", "-c", "cd /srv && if true; then sudo docker volume rm zenops_pgdata; fi"],
    ["docker-compose", "down", "-v"],
    ["docker-compose", "-p", "zen", "--verbose", "rm", "-fv"],
    ["/usr/local/bin/docker-compose", "--project-name=zen", "down", "--volumes"],
    ["/usr/libexec/docker/cli-plugins/docker-compose", "compose", "down", "-v"],
    ["/usr/bin/docker", "volume", "rm", "zenops_pgdata"],
    ["/usr/bin/docker", "volume", "rm", "opsuite-restore-x"],
    ["docker", "--context", "prod", "volume", "rm", "opsuite-restore-x"],
    ["docker", "system", "prune", "-a", "--volumes=true"],
    ["docker", "rm", "--volumes", "db-1"],
    ["docker", "rm", "--volumes=true", "db-1"],
    ["docker", "compose", "up", "-V"],
    ["docker", "compose", "up", "--detach", "--renew-anon-volumes", "db"],
    ["docker", "compose", "up", "-dV", "db"],
    ["docker", "compose", "run", "-V", "--rm", "backup"],
    ["docker", "compose", "run", "--rm", "--renew-anon-volumes", "backup"],
    ["docker-compose", "up", "-V"],
    ["docker", "--no-such-option", "x", "volume", "rm", "zenops_pgdata"],
    ["docker", "compose", "--no-such-option", "x", "down", "-v"],
], ids=" ".join)
def test_every_spelling_of_volume_removal_is_refused(argv):
    with pytest.raises(UnsafeOperation, match="refused.*(never removes volumes|not in the guard's table)"):
        refuse_volume_removal(argv)


@pytest.mark.parametrize("argv", [
    ["docker", "compose", "down"],
    ["docker", "compose", "down", "--volumes=false"],
    ["docker", "compose", "-f", "a.yml", "-f", "b.yml", "config"],
    ["docker", "compose", "--profile", "*", "config", "--format", "json"],
    ["docker", "compose", "--project-directory", "/srv/zen", "-p", "zen", "ps", "-a"],
    ["docker", "compose", "up", "-d"],
    ["docker", "compose", "up", "--detach", "--no-build", "--force-recreate", "db"],
    ["docker", "compose", "run", "--rm", "-v", "x:/x", "backup", "sh", "-c", "up -V"],
    ["docker", "compose", "-v"],
    ["docker", "volume", "ls"],
    ["docker", "volume", "inspect", "zenops_pgdata"],
    ["docker", "volume", "create", "--label", "a=b", "zenops_pgdata"],
    ["docker", "rm", "-f", "name"],
    ["docker", "rm", "--volumes=false", "x"],
    ["docker", "container", "rm", "--force", "x"],
    ["docker", "system", "prune", "-f"],
    ["docker", "system", "prune", "--volumes=false"],
    ["docker", "--context", "x", "ps"],
    ["docker", "-H", "unix:///var/run/docker.sock", "volume", "ls"],
    ["docker", "-v"],
    ["docker", "run", "--rm", "-v", "backups:/backups", "alpine", "rm", "-v", "/backups/x"],
    ["docker", "exec", "db-1", "psql", "-c", "select 1"],
    ["sudo", "-u", "postgres", "psql", "-c", "drop table x"],
    ["env", "A=1", "docker", "compose", "down"],
    ["timeout", "60", "docker", "volume", "ls"],
    ["sh", "-c", "docker volume ls; docker compose down --remove-orphans"],
    ["docker-compose", "down"],
    ["rm", "-rf", "--", "/tmp/x"],
    [],
], ids=lambda argv: " ".join(argv) or "empty")
def test_harmless_spellings_pass(argv):
    refuse_volume_removal(argv)


@pytest.mark.parametrize("argv, fix", [
    (["sudo", "docker", "compose", "down", "-v"], "'down' without -v"),
    (["docker", "-c", "prod", "volume", "rm", "zenops_pgdata"], "by hand only after a verified backup"),
    (["docker", "system", "prune", "--volumes"], "prune without --volumes"),
    (["docker", "rm", "--volumes", "db-1"], "'docker rm' without -v"),
    (["docker", "compose", "up", "-V"], "'up' without -V"),
    (["docker", "compose", "-v", "down"], "drop the -v"),
])
def test_a_refusal_names_the_rule_and_the_fix(argv, fix):
    with pytest.raises(UnsafeOperation) as refused:
        refuse_volume_removal(argv)
    assert "This suite never removes volumes" in str(refused.value)
    assert fix in str(refused.value)


def test_runner_refuses_before_anything_runs(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("subprocess was started for a refused command")

    monkeypatch.setattr(runner.subprocess, "run", must_not_run)
    with pytest.raises(UnsafeOperation):
        runner.run(COMPOSE + ["down", "-v"], limit="command")
    with pytest.raises(UnsafeOperation):
        runner.run(["docker", "volume", "rm", "zenops_pgdata"], limit="command")
