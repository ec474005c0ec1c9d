"""The restore drill against the real stack: faithful copies pass, bad inputs fail clearly, nothing is deleted."""

import json

import httpx
import pytest

from procedures import runner
from procedures.backup import pipeline as backup
from procedures.box import backup_box
from procedures.commands import files as files_cmd
from procedures.errors import BackupError, RestoreError
from procedures.restore import choose, compare, drill, throwaway
from procedures.sets.chosen import Chosen

from testkit import faults
from testkit.backup_helpers import in_box, local_files, manifest_of, with_config
from testkit.ops_run import run_check, summary_header

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def leftovers(stack) -> tuple[str, str]:
    prefix = f"opsuite-restore-{stack.project}"
    containers = runner.run(["docker", "ps", "-a", "--filter", f"name={prefix}", "--format", "{{.Names}}"], limit="command").stdout
    vols = runner.run(["docker", "volume", "ls", "--filter", f"name={prefix}", "--format", "{{.Name}}"], limit="command").stdout
    return containers.strip(), vols.strip()


def test_no_backup_fails_clearly(backup_stack, tmp_path):
    done, _ = run_check(backup_stack, tmp_path, "restore_drill")
    assert done.returncode != 0 and "no verified backup of this stack" in done.stdout and "in the backups volume" in done.stdout


def test_drill_restores_and_matches_the_manifest(backup_stack, tmp_path):
    base = backup_stack.ctx.config.http.base_url
    assert httpx.post(f"{base}/notes", json={"body": "restore me"}).status_code == 201
    live_before = local_files(backup_stack.ctx)
    taken = backup.backup(backup_stack.ctx)
    done, report = run_check(backup_stack, tmp_path, "restore_drill", "--signed-off-by=Drill Lead")
    assert done.returncode == 0, done.stdout[-3000:]
    page = report.read_text()
    assert "row counts: manifest vs restored" in page and "public.notes" in page and "RTO seconds" in page
    record = json.loads(report.with_suffix(".json").read_text())
    assert record["outcome"] == "passed" and record["backup_sha256"] and record["rto_seconds"] > 0
    outcomes = {s["name"]: s["outcome"] for s in record["steps"]}
    assert len(outcomes) == 9 and outcomes.pop("paths") == "skipped", "the stack has no [backup] paths"
    assert all(outcome == "passed" for outcome in outcomes.values()) and record["complete"] is True
    assert all(r["match"] for r in record["row_counts"]) and backup_stack.password not in page
    assert leftovers(backup_stack) == ("", ""), "throwaway server and volume are cleaned up"
    assert set(live_before) <= set(local_files(backup_stack.ctx)), "no backup was deleted"

    summary, top = summary_header(report)
    on_disk = in_box(backup_stack.ctx, files_cmd.sha256(taken.dump_path)).stdout.split()[0]
    used = summary["backup_set"]
    assert (used["name"], used["sha256"], used["dump_bytes"]) == (
        taken.set_name, on_disk, local_files(backup_stack.ctx)[taken.dump_path.rsplit("/", 1)[-1]])
    assert taken.set_name in top and on_disk in top and "Drill Lead" in top
    drill_facts = summary["drill"]
    assert drill_facts["row_counts"] == "match" and "row counts: match" in top
    assert all(isinstance(drill_facts[k], float) and drill_facts[k] >= 0 for k in ("rto_seconds", "rpo_seconds"))
    assert drill_facts["rto_seconds"] == record["rto_seconds"] and f"RTO {record['rto_seconds']} s" in top
    assert summary["outcome_text"] == "Restore drill succeeded" and summary["actions_required"] == []
    # read from the local backups, and the set also has an encrypted offsite copy: two facts, kept apart
    assert summary["restored_from"] == {"where": "local", "remote": None, "decrypted_through": None}
    assert used["offsite"] is True and used["encrypted"] is True and "local backup directory" in top
    # RPO: the newest verified offsite set's age when the run ended, judged against the schedule
    assert drill_facts["rpo_set"] == taken.set_name and drill_facts["rpo_within"] is True
    assert drill_facts["rpo_limit_seconds"] == backup_stack.ctx.config.freshness.offsite_max_age_hours * 3600
    assert drill_facts["rto_seconds"] >= record["restore_seconds"] and drill_facts["rto_to"] == "verified"
    assert f"Drill Lead at {summary['signed_off_at']}" in top and "data-fact='steps_table'" in top
    assert "Table count verified: done" in top and "Schema version matches: done" in top


def test_keep_leaves_the_server_and_says_how_to_clean_up(backup_stack, tmp_path):
    done, _ = run_check(backup_stack, tmp_path, "restore_drill", "--keep", "-s")
    assert done.returncode == 0, done.stdout[-3000:]
    containers, volumes = (names.split() for names in leftovers(backup_stack))
    uploads_copy = f"opsuite-restore-{backup_stack.project}-uploads-"
    [database_copy] = [v for v in volumes if not v.startswith(uploads_copy)]
    assert set(containers) == set(volumes) and len(volumes) == 2, "the database and the uploads copies are kept"
    assert f"docker volume rm {database_copy}" in done.stdout
    for name in volumes:
        runner.run(["docker", "rm", "-f", name], limit="command")
        runner.run(["docker", "volume", "rm", name], limit="command")


def test_missing_file_corrupted_dump_and_manifest_mismatch_fail_clearly(backup_stack):
    ctx = backup_stack.ctx
    result = backup.backup(ctx)
    good = backup.backup(ctx)
    with backup_box(ctx) as box:
        with pytest.raises(choose.RestoreError, match="not found in the backups volume"):
            choose.choose_backup(ctx, box, "demo_zenops_20200101T000000Z.dump")
    before = local_files(ctx)

    in_box(ctx, faults.flip_byte(result.dump_path, result.dump_size // 2))
    with backup_box(ctx) as box:
        with pytest.raises(choose.RestoreError, match="failed verification, not restoring it"):
            choose.choose_backup(ctx, box, result.set_name)
    assert set(local_files(ctx)) == set(before), "a bad backup is reported, never deleted"

    with backup_box(ctx) as box:
        chosen = choose.choose_backup(ctx, box, good.set_name)
        tampered = Chosen(chosen.set_name, {**chosen.manifest, "row_counts": {
            **chosen.manifest["row_counts"], "public.notes": chosen.manifest["row_counts"]["public.notes"] + 1}})
        with throwaway.throwaway_server(ctx, box, chosen.manifest["database"]) as server:
            server.restore(tampered.dump_in_backups, 2)
            rows = compare.compare_counts(tampered.manifest, server.row_counts())
    assert [r["table"] for r in rows if not r["match"]] == ["public.notes"]
    assert leftovers(backup_stack) == ("", "")


def test_the_schema_revision_comes_from_the_configured_query_or_is_not_recorded(backup_stack):
    """Not every app uses Alembic: [database] revision_query names what to record, "" records none,
    and a query that fails stops the backup naming the setting, with nothing under a final name."""
    ctx = backup_stack.ctx
    assert httpx.post(f"{ctx.config.http.base_url}/notes", json={"body": "counted"}).status_code == 201
    counted = with_config(ctx, database={"revision_query": "SELECT count(*) FROM notes"})
    taken = backup.backup(counted)
    assert manifest_of(ctx, taken.set_name)["alembic_revision"] == ctx.database.query("SELECT count(*) FROM notes")
    assert drill.restore(counted, drill.RestoreOptions(requested=taken.set_name)).record["revision"]["restored"] \
        == manifest_of(ctx, taken.set_name)["alembic_revision"]

    none = with_config(ctx, database={"revision_query": ""})
    untracked = backup.backup(none)
    assert manifest_of(ctx, untracked.set_name)["alembic_revision"] == ""
    assert drill.restore(none, drill.RestoreOptions(requested=untracked.set_name)).record["revision"] == {
        "manifest": "", "restored": ""}

    before = set(local_files(ctx))
    with pytest.raises(BackupError, match=r"\[database\] revision_query failed"):
        backup.backup(with_config(ctx, database={"revision_query": "SELECT generate_series(1, 2)"}))  # two rows
    assert not [n for n in set(local_files(ctx)) - before if not n.endswith(".partial")], "no new final name"


def test_a_set_made_by_another_engine_is_refused_naming_both(backup_stack):
    ctx = backup_stack.ctx
    taken = backup.backup(ctx)
    recorded = manifest_of(ctx, taken.set_name)
    path = f"{ctx.config.backup.directory}/{taken.set_name}.manifest.json"
    in_box(ctx, files_cmd.write_stdin_to(path), input_text=json.dumps({**recorded, "engine": "sqlite"}))
    try:
        with pytest.raises(RestoreError, match="made by the 'sqlite' engine.*\\[database\\] engine is 'postgres'"):
            drill.restore(ctx, drill.RestoreOptions(requested=taken.set_name))
    finally:
        in_box(ctx, files_cmd.write_stdin_to(path), input_text=json.dumps(recorded))
