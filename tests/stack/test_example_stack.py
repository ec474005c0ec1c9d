"""The example stack under the prod overlay, for real: render, install, serve, stop, keep data."""

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import docker
import pytest

from procedures.adopt import discover
from procedures.load import load_config
from procedures.stack import readiness as http_checks
from procedures.stack import services as health
from procedures.stack import volumes
from procedures.commands import compose as cmd
from procedures.context import prepared_context
from procedures.errors import CommandFailed, NotReady, UnsafeOperation

pytestmark = pytest.mark.stack
EXAMPLE_COMPOSE = Path(__file__).resolve().parents[2] / "example" / "docker-compose.yml"


def test_overlay_refuses_to_render_without_tag(running_stack):
    untagged = prepared_context(running_stack.ctx.config, tag=None)
    with pytest.raises(CommandFailed, match="TAG is required"):
        untagged.compose.rendered()


def test_plain_compose_renders_the_overlay_only_with_tag(tmp_path):
    """As an operator types it: no TAG, no render; with TAG, pgdata is external (<project>_pgdata)."""
    root = Path(__file__).resolve().parents[2]
    env_file = tmp_path / "stack.env"
    env_file.write_text("POSTGRES_PASSWORD=not-used-here\n")
    argv = ["docker", "compose", "--project-name", "zenops", "--env-file", str(env_file),
            "-f", str(root / "example/docker-compose.yml"), "-f", str(root / "docker-compose.prod.yml"),
            "config", "--format", "json"]
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    untagged = subprocess.run(argv, env=clean, capture_output=True, text=True)
    assert untagged.returncode != 0 and "TAG is required" in untagged.stderr
    tagged = subprocess.run(argv, env={**clean, "TAG": "1.1.0"}, capture_output=True, text=True)
    assert tagged.returncode == 0, tagged.stderr
    assert json.loads(tagged.stdout)["volumes"]["pgdata"] == {"name": "zenops_pgdata", "external": True}


def test_rendered_database_volume_is_external_with_configured_name(running_stack):
    model = running_stack.ctx.compose.rendered()
    assert model["volumes"]["pgdata"]["external"] is True
    assert model["volumes"]["pgdata"]["name"] == running_stack.ctx.config.volumes.database
    db_mounts = {m["target"]: m["source"] for m in model["services"]["db"]["volumes"]}
    assert db_mounts["/var/lib/postgresql/data"] == "pgdata"


def test_app_images_come_from_the_tag(running_stack):
    model = running_stack.ctx.compose.rendered()
    for service in ("api", "email-worker"):
        assert model["services"][service]["image"].endswith(":1.0.0")


def test_migrate_is_a_one_off_task_not_started_by_up(running_stack):
    states = health.service_states(running_stack.ctx.compose)
    assert running_stack.ctx.config.services.backup not in states, "the backup service is a one-off"
    assert {"db", "api", "email-worker", "reverse-proxy"} <= set(states)


def test_readyz_is_green_through_the_proxy(running_stack):
    result = http_checks.get(running_stack.ctx.config.http.base_url, "/readyz")
    assert result.status == 200, result.body
    assert result.json()["status"] == "ready"


def test_version_reports_the_tag(running_stack):
    result = http_checks.get(running_stack.ctx.config.http.base_url, "/version")
    assert result.json()["version"] == "1.0.0"


def test_only_the_proxy_publishes_a_port_and_only_on_loopback(running_stack):
    published = {}
    for row in running_stack.ctx.compose.containers():
        for pub in row.get("Publishers") or []:
            if pub.get("PublishedPort"):
                published.setdefault(row["Service"], []).append(pub["URL"])
    assert set(published) == {"reverse-proxy"}
    assert all(url in ("127.0.0.1",) for url in published["reverse-proxy"])


def test_down_with_volumes_is_refused_against_the_real_stack(running_stack):
    stack = running_stack.ctx.config.stack
    before = volumes.require_database_volume(running_stack.ctx.config.volumes.database)
    with pytest.raises(UnsafeOperation):
        running_stack.ctx.compose.run(cmd.compose(stack, "down", "-v"), limit="command")
    assert volumes.require_database_volume(before.name).identity == before.identity
    assert http_checks.get(running_stack.ctx.config.http.base_url, "/readyz").status == 200


def test_with_the_http_version_check_off_the_running_images_prove_the_release(running_stack):
    ctx = running_stack.ctx
    off = prepared_context(dataclasses.replace(ctx.config, http=dataclasses.replace(ctx.config.http, version_path="")),
                     "1.0.0")
    found = http_checks.check_version(off)
    assert found["version"] == "1.0.0" and found["missing"] == []
    assert found["images"] == ["opsuite-local/zenops-api:1.0.0"] and found["image_ids"][0].startswith("sha256:")
    with pytest.raises(NotReady, match="image tag .* reports '1.0.0', expected '1.1.0'"):
        http_checks.check_version(off.with_tag("1.1.0"))


def test_discovery_of_the_running_stack_changes_nothing(running_stack, tmp_path):
    client = docker.from_env()

    # The project's own containers, volumes and networks: other stacks may come and go on the same
    # engine meanwhile (the suite runs two test workers), and discovery reads only this project.
    project = {"label": f"com.docker.compose.project={running_stack.project}"}

    def state():
        return ({(c.name, c.status, c.attrs["Created"]) for c in client.containers.list(all=True, filters=project)},
                {v.name for v in client.volumes.list() if v.name.startswith(running_stack.project)},
                {n.id for n in client.networks.list(filters=project)})

    before = state()
    run = discover.discover([str(EXAMPLE_COMPOSE)], running_stack.project, tmp_path / "proposal.toml")
    assert state() == before, "discovery starts, changes and removes nothing"
    running = {c["service"] for c in run.running["containers"] if c["state"] == "running"}
    assert {"db", "api", "email-worker", "reverse-proxy"} <= running
    assert f"{running_stack.project}_uploads" in run.running["volumes"]
    proposed = load_config(tmp_path / "proposal.toml")
    assert proposed.services.database == "db" and proposed.services.proxy == "reverse-proxy"
    assert proposed.volumes.database == f"{running_stack.project}_pgdata"
