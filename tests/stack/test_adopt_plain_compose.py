"""After adoption, a plain `docker compose down -v` run by hand in the app's own directory (no -f,
no TAG) removes the containers but no volume the suite's overlay marks external: adopt points
compose's own COMPOSE_FILE (in the app's `.env`) at the app's files and the overlay."""

import os
import subprocess

import docker
import pytest

from procedures import plain_compose
from procedures.box import BackupBox
from procedures.context import prepared_context
from procedures.stack import volumes
from testkit import disposable, zenops

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def by_hand(host, *args: str) -> subprocess.CompletedProcess:
    """`docker compose ARGS` typed in the app's directory: nothing from the suite's environment."""
    return subprocess.run(["docker", "compose", *args], cwd=host.app_dir, env=_typed_env(), capture_output=True,
                          text=True, timeout=300)


def _typed_env() -> dict[str, str]:
    """An operator's shell: nothing from the suite's environment."""
    return {k: v for k, v in os.environ.items() if k != "TAG" and not k.startswith("COMPOSE_")}


@pytest.mark.fault("a plain `docker compose down -v` in the app's directory after adoption")
def test_plain_down_v_in_the_apps_directory_keeps_every_external_volume(tmp_path):
    host = zenops.create(tmp_path / "host")
    try:
        zenops.start_plainly(host, "1.0.0")
        stack = zenops.adopted(host, tmp_path / "reports")
        ctx = prepared_context(stack.ctx.config, "1.0.0")
        declared = ctx.compose.rendered_every_profile()["volumes"]
        external = {v["name"]: volumes.inspect_volume(v["name"]) for v in declared.values() if v.get("external")}
        assert f"{host.project}_postgres_data" in external and None not in external.values(), external
        cluster = ctx.engine.data_identity(ctx.database)
        env = (host.app_dir / ".env").read_text()
        assert f"COMPOSE_PROJECT_NAME={host.project}\n" in env and "TAG=1.0.0\n" in env
        assert f"COMPOSE_FILE={plain_compose.SEPARATOR.join(map(str, ctx.config.stack.compose_files))}\n" in env
        assert list(host.app_dir.glob(".env.*.before-opsuite")), "the operator's .env is kept as it was"
        printed = BackupBox("unused", ctx.config.services.backup, ctx.compose).how_to_run("rclone version")
        pasted = subprocess.run(["bash", "-c", printed], cwd="/", env=_typed_env(), capture_output=True, text=True,
                                timeout=300)
        assert pasted.returncode == 0 and "rclone v" in pasted.stdout, (printed, pasted.stderr)
        in_app_dir = by_hand(host, "run", "--rm", "--no-deps", ctx.config.services.backup, "rclone", "version")
        assert in_app_dir.returncode == 0, in_app_dir.stderr

        down = by_hand(host, "down", "-v")

        assert down.returncode == 0, down.stderr
        labels = [f"com.docker.compose.project={host.project}", "com.docker.compose.service=db"]
        assert docker.from_env().containers.list(all=True, filters={"label": labels}) == [], "down removed the database"
        for name, facts in external.items():
            after = volumes.inspect_volume(name)
            assert after is not None, f"{name} was removed by a plain down -v"
            assert (after.name, after.mountpoint) == (facts.name, facts.mountpoint)
        up = by_hand(host, "up", "--detach", "--wait", "db")
        assert up.returncode == 0, up.stderr
        assert ctx.engine.data_identity(ctx.database) == cluster, "the database came back with its own cluster"
    finally:
        disposable.destroy_project(host.project, f"{host.project}_postgres_data")
