"""A stack that runs under plain `docker compose up` (compose-owned database volume) is taken over
with its data in place: the first backup precedes any change, and a sentinel row survives."""

import docker
import httpx
import pytest

from procedures import ledger
from procedures import runner
from procedures.commands import compose as compose_cmd
from procedures.config import StackConfig
from procedures.stack import volumes
from testkit import disposable
from testkit.ops_run import run_check, summary_header

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def plain(stack, *args: str) -> None:
    """`docker compose` with the app's own file only, as the stack ran before the suite."""
    cfg = stack.ctx.config.stack
    app_only = StackConfig(cfg.project, (disposable.EXAMPLE / "docker-compose.yml",), cfg.env_file)
    runner.run(compose_cmd.compose(app_only, *args), env={"TAG": "1.0.0"}, timeout=300, limit="command")


def test_a_plainly_running_stack_is_adopted_with_its_data(fresh_stack, tmp_path):
    stack = fresh_stack
    plain(stack, "up", "--detach", "--wait", "db")
    plain(stack, "run", "--rm", "--no-deps", "api", "alembic", "upgrade", "head")
    plain(stack, "up", "--detach", "--wait")
    base = stack.ctx.config.http.base_url
    assert httpx.post(f"{base}/notes", json={"body": "sentinel before adoption"}).status_code == 201
    before = volumes.require_database_volume(stack.ctx.config.volumes.database)
    assert before.labels.get("com.docker.compose.project") == stack.project, "compose owns the volume so far"
    cluster = stack.ctx.engine.data_identity(stack.ctx.database)
    disposable.configure_offsite(stack)
    containers, project_volumes = _containers(stack), disposable.list_project_volumes(stack)

    refused, _ = run_check(stack, tmp_path, "adopt", "--tag=1.0.0")

    assert refused.returncode != 0
    assert f"CONFIRM=YES pytest ops_checks/adopt.py --ops-config={stack.config_path} --tag=1.0.0" in refused.stdout
    assert _containers(stack) == containers, "without CONFIRM=YES no container was recreated"
    assert disposable.list_project_volumes(stack) == project_volumes, "without CONFIRM=YES no volume was made"
    assert ledger.releases(stack.ctx.config.deploy.state_dir, stack.project) == []

    done, report = run_check(stack, tmp_path, "adopt", "--tag=1.0.0", env={"CONFIRM": "YES"})

    assert done.returncode == 0, done.stdout[-3000:]
    after = volumes.require_database_volume(stack.ctx.config.volumes.database)
    assert (after.name, after.mountpoint) == (before.name, before.mountpoint)
    assert stack.ctx.engine.data_identity(stack.ctx.database) == cluster
    assert "sentinel before adoption" in [n["body"] for n in httpx.get(f"{base}/notes").json()]
    entry = ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]
    assert (entry["action"], entry["tag"], entry["database_volume"]) == ("adopt", "1.0.0", before.name)
    page = report.read_text()
    assert page.index("test_verified_backup_before_any_change") < page.index("test_taken_over_under_the_overlay")
    summary, top = summary_header(report)
    assert summary["outcome_text"] == f"Adoption of {stack.project} at 1.0.0 succeeded"
    assert summary["tag"] == {"from": "1.0.0", "to": "1.0.0"} and "TAG 1.0.0 (unchanged)" in top
    assert summary["revision"] == {"from": entry["revision_after"], "to": entry["revision_after"]}
    assert summary["backup_set"]["name"] == entry["backup"] and summary["backup_set"]["sha256"] in top
    model = stack.ctx.compose.rendered()
    assert model["volumes"]["pgdata"] == {"name": before.name, "external": True}


def _containers(stack) -> dict[str, str]:
    """The project's containers: name -> id (a recreated container has a new id)."""
    found = docker.from_env().containers.list(all=True, filters={"label": f"com.docker.compose.project={stack.project}"})
    return {c.name: c.id for c in found}
