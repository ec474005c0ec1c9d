"""--from-remote on the real stand-in remote: the offsite copy is what gets restored, crypt included."""

import html
import json
import re

import httpx
import pytest

from procedures.backup import pipeline as backup
from procedures.remote.rclone_progress import size_in_bytes
from procedures.restore import from_remote as remote_fetch

from testkit import disposable
from testkit.backup_helpers import RCLONE_STATS, in_box, local_files, remote_files
from testkit.ops_run import run_check, summary_header
from testkit import faults

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


def fetched_folders(ctx) -> list[str]:
    listing = in_box(ctx, ["find", ctx.config.backup.directory, "-maxdepth", "1", "-type", "d",
                           "-name", f"{remote_fetch.FOLDER_PREFIX}*"]).stdout
    return listing.split()


def test_from_remote_restores_the_offsite_copy_when_the_local_one_is_corrupted(backup_stack, tmp_path):
    ctx = backup_stack.ctx
    assert httpx.post(f"{ctx.config.http.base_url}/notes", json={"body": "offsite"}).status_code == 201
    result = backup.backup(ctx)
    in_box(ctx, faults.flip_byte(result.dump_path, result.dump_size // 2))
    local_before = local_files(ctx)

    local, _ = run_check(backup_stack, tmp_path, "restore_drill", f"--backup={result.set_name}")
    assert local.returncode != 0 and "failed verification, not restoring it" in local.stdout
    assert re.search(r"^FAILED at step \d+ \(\w+\): \w+: .*failed verification", local.stdout, re.M), local.stdout[-3000:]

    done, report = run_check(backup_stack, tmp_path, "restore_drill", "--from-remote", f"--backup={result.set_name}")
    assert done.returncode == 0, done.stdout[-3000:]
    tables = result.manifest["table_count"]
    assert re.search(rf"^download set files: {RCLONE_STATS}$", done.stdout, re.M), "rclone's stats, live"
    [got] = re.findall(r"^download set files: ([\d.]+ \S*B) / \1, 100%", done.stdout, re.M)[-1:]
    assert size_in_bytes(got) >= result.dump_size and "0 B / 0 B" not in done.stdout, "real bytes"
    summary = done.stdout[done.stdout.index("= opsuite ="):]  # the end-of-run summary, from the record
    assert re.search(r"^OK: Restore drill succeeded", summary, re.M), summary
    assert re.search(rf"^backup set: {re.escape(result.set_name)}, [\d.]+ \S*B;", summary, re.M), summary
    assert re.search(r"^recovery: RTO \d.*, RPO \d.*, row counts match$", summary, re.M), summary
    assert f"report: {report.resolve()}" in summary
    # Live restore progress reaches the last table, also when the parallel restore's (jobs = 2) workers mix
    # their log lines on one stderr under load (tests/fixtures/progress/pg_restore_jobs2_interleaved.txt).
    assert re.search(rf"^restore: table {tables} of {tables}: public\.\w+$", done.stdout, re.M), \
        "tables, live:\n" + "\n".join(line for line in done.stdout.splitlines() if line.startswith(("restore", "download")))
    page = html.unescape(html.unescape(report.read_text()))  # the extras are escaped HTML in escaped JSON
    assert ", ETA " not in page and ": table 1 of " not in page, "live lines stay out of the report"
    record = json.loads(report.with_suffix(".json").read_text())
    assert record["downloaded"][0]["copy"] == "set files" and record["downloaded"][0]["transferred"], "final figures"
    assert record["backup_source"] == "remote" and record["backup_set"] == result.set_name
    assert all(r["match"] for r in record["row_counts"]) and record["issues_found"] == []
    summary, top = summary_header(report)
    assert summary["restored_from"]["where"] == "offsite"
    assert summary["restored_from"]["decrypted_through"].startswith("gdrive-crypt:") and "decrypted through" in top
    assert summary["backup_set"]["offsite"] is True and summary["backup_set"]["encrypted"] is True
    # RTO counts choosing and downloading the set: it spans the choose step and the restore after it
    choose_seconds = next(s["seconds"] for s in record["steps"] if s["name"] == "choose")
    assert summary["drill"]["rto_seconds"] >= choose_seconds + record["restore_seconds"]
    assert summary["drill"]["rpo_set"] == result.set_name and summary["drill"]["rpo_within"] is True
    assert fetched_folders(ctx) == [], "the downloaded copy is removed after the drill"
    assert local_files(ctx) == local_before, "local backups are neither replaced nor deleted"

    archived = remote_files(ctx, f"{ctx.config.offsite.path(ctx.config.stack.environment)}/reports/restore_drill")
    assert {report.name, report.with_suffix(".json").name} <= set(archived), "evidence is copied offsite"


def raw_encrypted_files(ctx) -> set[str]:
    return set(in_box(ctx, ["rclone", "lsf", "--recursive", "--files-only", "gdrive:encrypted"]).stdout.split())


@pytest.mark.fault("wrong crypt password")
def test_from_remote_through_crypt_and_a_wrong_crypt_password(backup_stack, tmp_path):
    crypt_stack, crypt_ctx = backup_stack, backup_stack.ctx  # offsite copies go through crypt by default
    assert crypt_ctx.config.offsite.remote.startswith("gdrive-crypt:")
    result = backup.backup(crypt_ctx)

    done, _ = run_check(crypt_stack, tmp_path, "restore_drill", "--from-remote")
    assert done.returncode == 0, done.stdout[-3000:]

    raw_before, local_before = raw_encrypted_files(crypt_ctx), local_files(crypt_ctx)
    disposable.configure_offsite(backup_stack, "not-the-crypt-password")
    try:
        wrong, _ = run_check(crypt_stack, tmp_path, "restore_drill", "--from-remote", f"--backup={result.set_name}")
    finally:
        disposable.configure_offsite(backup_stack, backup_stack.crypt_password)
    assert wrong.returncode != 0
    assert "is a crypt remote: a wrong password or salt" in wrong.stdout, wrong.stdout[-3000:]
    # The failed run's own evidence is archived too, so files may be added; none may go.
    assert raw_before <= raw_encrypted_files(crypt_ctx) and local_files(crypt_ctx) == local_before
    assert fetched_folders(crypt_ctx) == []
