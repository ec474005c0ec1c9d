"""Disaster restore end to end on a disposable stack: refused without CONFIRM=YES, then a restore into a
new volume, the switch to it, and the switch back; the old volume is never written or removed."""

import json
import tomllib

import docker
import httpx
import pytest

from procedures.backup import pipeline as backup
from procedures.release import install
from procedures.stack import volumes
from procedures.errors import UnsafeOperation

from testkit.ops_run import run_check

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def containers(stack) -> dict[str, tuple[str, str]]:
    """Service -> (container id, started at) of the stack's long-running containers."""
    found = docker.from_env().containers.list(filters={"label": f"com.docker.compose.project={stack.project}"})
    return {c.labels["com.docker.compose.service"]: (c.id, c.attrs["State"]["StartedAt"]) for c in found
            if c.labels.get("com.docker.compose.oneoff") == "False"}


def volume_names(stack) -> set[str]:
    return {v.name for v in docker.from_env().volumes.list() if stack.project in v.name}


def notes(stack) -> list[str]:
    answer = httpx.get(f"{stack.ctx.config.http.base_url}/notes")
    assert answer.status_code == 200, answer.text
    return [n["body"] for n in answer.json()]


def add_note(stack, body: str) -> None:
    assert httpx.post(f"{stack.ctx.config.http.base_url}/notes", json={"body": body}).status_code == 201


def configured_volume(stack) -> str:
    return tomllib.loads(stack.config_path.read_text())["volumes"]["database"]


def test_disaster_mode_without_confirm_changes_nothing(backup_stack, tmp_path):
    backup.backup(backup_stack.ctx)
    before = (containers(backup_stack), volume_names(backup_stack), backup_stack.config_path.read_text())
    done, report = run_check(backup_stack, tmp_path, "restore_drill", "--mode=disaster")
    assert done.returncode != 0
    assert "To go ahead, set CONFIRM=YES" in done.stdout, done.stdout[-3000:]
    assert (containers(backup_stack), volume_names(backup_stack), backup_stack.config_path.read_text()) == before
    assert httpx.get(f"{backup_stack.ctx.config.http.base_url}/readyz").status_code == 200
    record = json.loads(report.with_suffix(".json").read_text())
    assert record["outcome"] == "failed" and "CONFIRM=YES" in record["issues_found"][0]


def test_disaster_restore_switches_to_a_new_volume_and_back(backup_stack, tmp_path):
    ctx = backup_stack.ctx
    old = ctx.config.volumes.database
    old_identity = volumes.require_database_volume(old).identity
    add_note(backup_stack, "in the backup")
    taken = backup.backup(ctx)
    add_note(backup_stack, "written after the backup")

    done, report = run_check(backup_stack, tmp_path, "restore_drill", "--mode=disaster",
                             f"--backup={taken.set_name}", env={"CONFIRM": "YES"})
    assert done.returncode == 0, done.stdout[-4000:]
    record = json.loads(report.with_suffix(".json").read_text())
    new = record["new_volume"]
    assert new.startswith(f"{old}_restored_") and record["old_volume"] == old
    assert len(record["steps"]) == 12 and all(r["match"] for r in record["row_counts"])
    page = report.read_text()
    assert "row counts: manifest vs restored" in page and "Ops evidence: restore_drill (disaster mode)" in page

    assert configured_volume(backup_stack) == new, "the stack's config names the volume it now uses"
    assert volumes.mounted_database_volume(ctx) == new
    assert httpx.get(f"{ctx.config.http.base_url}/readyz").status_code == 200
    served = notes(backup_stack)
    assert "in the backup" in served and "written after the backup" not in served, "the restored data serves"
    assert volumes.require_database_volume(old).identity == old_identity, "the old volume is kept"
    with pytest.raises(UnsafeOperation, match="recreating the database would switch"):
        install.start_database(ctx)  # ctx still names the old volume: starting it now would swap silently

    back, _ = run_check(backup_stack, tmp_path, "switch_database_volume", f"--volume={old}", env={"CONFIRM": "YES"})
    assert back.returncode == 0, back.stdout[-4000:]
    assert configured_volume(backup_stack) == old and volumes.mounted_database_volume(ctx) == old
    served = notes(backup_stack)
    assert "written after the backup" in served, "the old volume was never written by the restore"
    assert volumes.require_database_volume(old).identity == old_identity
    assert volumes.inspect_volume(new) is not None, "the restored volume is kept too"


def test_disaster_restore_of_a_missing_backup_stops_before_touching_the_app(backup_stack, tmp_path):
    before = (containers(backup_stack), volume_names(backup_stack))
    done, _ = run_check(backup_stack, tmp_path, "restore_drill", "--mode=disaster",
                        "--backup=demo_zenops_20200101T000000Z", env={"CONFIRM": "YES"})
    assert done.returncode != 0 and "not found in the backups volume" in done.stdout, done.stdout[-3000:]
    assert (containers(backup_stack), volume_names(backup_stack)) == before
    assert httpx.get(f"{backup_stack.ctx.config.http.base_url}/readyz").status_code == 200
