"""Runbook: verified pg_dump -Fc backup, uploads archive, offsite copy, retention proven by listing.

Run nightly (docs/BACKUPS.md). A failed step blocks every later one, so nothing is pruned after a
failure; the verified local dump stays even when the offsite copy fails.
"""

import contextlib

import pytest

from procedures import backup, lock, manifest
from procedures.backup_box import backup_box

from . import evidence


@pytest.fixture(scope="module")
def run(ops, pytestconfig):
    """One backup run: the lock and one backup container for all steps, released on every exit."""
    ctx = backup.with_serving_tag(ops)
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(lock.hold_stack(ctx.config, "backup",
                                              break_stale=pytestconfig.getoption("break_stale_lock")))
        box = cleanup.enter_context(backup_box(ctx))
        yield backup.start(ctx, box)


def offsite_enabled(run) -> None:
    if not run.ctx.config.offsite.enabled:
        pytest.skip("offsite copies are disabled in the config ([offsite] enabled = false)")


@pytest.mark.order(1)
def test_preflight_database_reachable_and_disk_free(run, extras):
    checked = backup.run_preflight(run)
    evidence.data(extras, "preflight", vars(checked))
    assert checked.free_bytes >= checked.required_free_bytes


@pytest.mark.order(2)
def test_dump_is_written_then_verified_restorable(run, extras):
    dumped = backup.run_dump(run)
    evidence.table(extras, "dump", [{"file": dumped.path, "bytes": dumped.size, "seconds": round(dumped.seconds, 2),
                                     "archive entries": dumped.toc_entries, "sha256": dumped.sha256}])
    assert dumped.size > 0 and dumped.toc_entries > 0


@pytest.mark.order(3)
def test_uploads_volume_is_archived(run, extras):
    archived = backup.run_uploads_archive(run)
    evidence.data(extras, "uploads archive", archived or "disabled ([backup] uploads_archive = false)")


@pytest.mark.order(4)
def test_manifest_is_complete(run, extras):
    written = backup.run_manifest(run)
    evidence.table(extras, "row counts in the dump's snapshot",
                   [{"table": t, "rows": n} for t, n in written["row_counts"].items()])
    evidence.data(extras, "manifest", written)
    assert manifest.missing_fields(written) == []
    assert written["table_count"] > 0 and written["alembic_revision"]


@pytest.mark.order(5)
def test_checksum_matches_manifest(run):
    recorded = backup.verify_set(run.box, run.directory, run.set_name)
    assert recorded["dump"]["sha256"] == run.dump.sha256


@pytest.mark.order(6)
def test_offsite_remote_is_reachable(run, extras):
    offsite_enabled(run)
    status = backup.run_remote_status(run)
    evidence.data(extras, "remote", {"path": status.path, "type": status.remote_type, "crypt": status.crypt})


@pytest.mark.order(7)
def test_offsite_copy_matches(run, extras):
    offsite_enabled(run)
    uploaded = backup.run_upload(run)
    evidence.data(extras, "uploaded now (everything the remote lacked)", uploaded)
    assert run.manifest["dump"]["file"] in backup.complete_local_files(run.box, run.directory)


def _retention_evidence(extras, result) -> None:
    rows = [{"set": v.set.name, "taken": v.set.taken_at.isoformat(), "verified": v.set.verified,
             "verdict": verdict, "why": v.reason}
            for verdict, verdicts in (("keep", result.decision.keep), ("delete", result.decision.delete))
            for v in verdicts]
    evidence.table(extras, f"{result.where}: {result.policy.describe()}", rows)
    evidence.data(extras, f"{result.where}: listing after pruning", result.listing_after)


@pytest.mark.order(8)
def test_local_listing_matches_retention_policy(run, extras):
    result = backup.run_prune_local(run)
    _retention_evidence(extras, result)
    assert result.sets_after == result.expected_sets
    assert run.set_name in result.sets_after


@pytest.mark.order(9)
def test_remote_listing_matches_retention_policy(run, extras):
    offsite_enabled(run)
    result = backup.run_prune_remote(run)
    _retention_evidence(extras, result)
    assert result.sets_after == result.expected_sets
    assert run.set_name in result.sets_after
