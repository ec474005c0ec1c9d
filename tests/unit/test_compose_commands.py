from pathlib import Path

import pytest

from procedures.commands import compose as cmd
from procedures.commands import docker as docker_cmd
from procedures.config import StackConfig
from procedures.guards import refuse_volume_removal

pytestmark = pytest.mark.unit

STACK = StackConfig(project="zen", compose_files=(Path("base.yml"), Path("prod.yml")),
                    env_file=Path("stack.env"))
PREFIX = ["docker", "compose", "--project-name", "zen", "--env-file", "stack.env",
          "--file", "base.yml", "--file", "prod.yml"]


def test_prefix_names_project_env_file_and_files_in_order():
    assert cmd.compose(STACK) == PREFIX


def test_without_env_file():
    stack = StackConfig(project="zen", compose_files=(Path("a.yml"),))
    assert cmd.compose(stack, "ps") == ["docker", "compose", "--project-name", "zen", "--file", "a.yml", "ps"]


def test_config_json():
    assert cmd.config_json(STACK) == PREFIX + ["config", "--format", "json"]


def test_up_never_builds():
    assert cmd.up(STACK, ["api", "email-worker"]) == PREFIX + ["up", "--detach", "--no-build", "api", "email-worker"]
    assert cmd.up(STACK, ["api"], no_deps=True) == PREFIX + ["up", "--detach", "--no-build", "--no-deps", "api"]


def test_run_once_passes_env_names_not_values():
    argv = cmd.run_once(STACK, "backup", ["pg_dump", "-Fc"], volumes=["x:/x"], env_names=["PGPASSWORD"])
    assert argv == PREFIX + ["run", "--rm", "--no-TTY", "--volume", "x:/x", "--env", "PGPASSWORD",
                             "backup", "pg_dump", "-Fc"]


def test_down_never_removes_volumes():
    assert cmd.down(STACK) == PREFIX + ["down", "--remove-orphans"]
    refuse_volume_removal(cmd.down(STACK))


def test_down_without_a_stop_grace_still_keeps_volumes():
    assert cmd.down(STACK, stop_seconds=0) == PREFIX + ["down", "--remove-orphans", "--timeout", "0"]
    refuse_volume_removal(cmd.down(STACK, stop_seconds=0))


def test_ps_and_logs():
    assert cmd.ps_json(STACK) == PREFIX + ["ps", "--all", "--format", "json"]
    assert cmd.logs(STACK, ["api"], 50) == PREFIX + ["logs", "--no-color", "--tail", "50", "api"]


def test_docker_builders():
    assert docker_cmd.volume_create("v", {"b": "2", "a": "1"}) == \
        ["docker", "volume", "create", "--label", "a=1", "--label", "b=2", "v"]
    assert docker_cmd.service_containers("zen", "api") == [
        "docker", "ps", "--quiet", "--filter", "label=com.docker.compose.project=zen",
        "--filter", "label=com.docker.compose.service=api",
        "--filter", "label=com.docker.compose.oneoff=False"]
    assert docker_cmd.service_containers("zen", "api", stopped_too=True)[:4] == ["docker", "ps", "--all", "--quiet"]


def test_run_once_detached_named_without_dependencies():
    argv = cmd.run_once(STACK, "backup", ["sleep", "infinity"], detach=True, name="zen-backup-1", no_deps=True)
    assert argv == PREFIX + ["run", "--rm", "--no-TTY", "--no-deps", "--detach", "--name", "zen-backup-1",
                             "backup", "sleep", "infinity"]


def test_volumes_of_a_project_are_listed_by_composes_label_and_by_the_suites():
    from procedures.commands import docker as docker_cmd
    assert docker_cmd.project_volumes("zen")[:5] == ["docker", "volume", "ls", "--filter",
                                                     "label=com.docker.compose.project=zen"]
    assert docker_cmd.suite_volumes("zen") == ["docker", "volume", "ls", "--filter", "label=io.opsuite.project=zen",
                                               "--format", "{{json .}}"]


def test_a_healthcheck_runs_now_as_the_engine_would_run_it():
    assert docker_cmd.run_healthcheck("c1", ["CMD", "pg_isready", "-U", "app"]) == \
        ["docker", "exec", "c1", "pg_isready", "-U", "app"]
    assert docker_cmd.run_healthcheck("c1", ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]) == \
        ["docker", "exec", "c1", "/bin/sh", "-c", "curl -f http://localhost/ || exit 1"]


def test_a_start_first_switch_scales_beside_the_running_containers_and_keeps_them():
    assert cmd.scale_beside(STACK, "api", 2) == PREFIX + [
        "up", "--detach", "--no-build", "--no-deps", "--no-recreate", "--scale", "api=2", "api"]
    assert cmd.config_hash(STACK, "api") == PREFIX + ["config", "--hash=api"]
    # The old container goes within its own stop grace period: no --time overrides it.
    assert docker_cmd.stop_container("abc") == ["docker", "stop", "abc"]
    refuse_volume_removal(cmd.scale_beside(STACK, "api", 2))


def test_as_operator_leaves_project_and_files_to_compose():
    """No --project-name, no --file: compose takes COMPOSE_PROJECT_NAME, .env, name:, the folder, COMPOSE_FILE."""
    assert cmd.as_operator((), "config", "--services") == ["docker", "compose", "config", "--services"]
    assert cmd.as_operator((Path("a.yml"),), "config", project="zen") == [
        "docker", "compose", "--project-name", "zen", "--file", "a.yml", "config"]
    assert cmd.environment() == ["docker", "compose", "config", "--environment"]


def test_containers_by_directory_and_volumes_by_key_read_compose_labels():
    assert docker_cmd.directory_containers("/srv/app") == [
        "docker", "ps", "--all", "--filter", "label=com.docker.compose.project.working_dir=/srv/app",
        "--format", "{{json .}}"]
    assert docker_cmd.keyed_volumes("pgdata") == [
        "docker", "volume", "ls", "--filter", "label=com.docker.compose.volume=pgdata", "--format", "{{json .}}"]
