"""Runbook: verified database dump (pg_dump -Fc, or SQLite's online backup: [database] engine), the
uploads, offsite copy, retention proven by listing.

Run nightly (docs/BACKUPS.md). A failed step blocks every later one, so nothing is pruned after a
failure; the verified local dump stays even when the offsite copy fails.
"""

import pytest

from procedures.backup import host_paths, pipeline
from procedures.backup.pipeline import BACKUP
from procedures.sets import manifest
from runbook_plugin.steps import runbook_step

from . import evidence, summary


@pytest.fixture(scope="module")
def run(ops, pytestconfig, runbook_summary):
    """One backup run: the lock and one backup container for all steps, released on every exit."""
    with pipeline.open_run(ops, break_stale_lock=pytestconfig.getoption("break_stale_lock"),
                           accept_clock=pytestconfig.getoption("accept_clock"),
                           allow_mass_prune=pytestconfig.getoption("allow_mass_prune")) as opened:
        runbook_summary.read(summary.backup, opened)
        yield opened


@runbook_step(BACKUP, "preflight")
def test_preflight_database_reachable_and_disk_free(run, step, extras):
    checked = step(run)
    evidence.data(extras, "preflight", vars(checked))
    assert checked.free_bytes >= checked.required_free_bytes


@runbook_step(BACKUP, "dump")
def test_dump_is_written_then_verified_restorable(run, step, extras):
    dumped = step(run)
    tables = ({} if dumped.facts.tables_dumped is None
              else {"tables dumped": f"{dumped.facts.tables_dumped} of {len(dumped.facts.row_counts)}"})
    evidence.table(extras, "dump", [{"file": dumped.path, "bytes": dumped.size, "seconds": round(dumped.seconds, 2),
                                     **tables, "archive entries": dumped.toc_entries, "sha256": dumped.sha256}])
    assert dumped.size > 0 and dumped.toc_entries > 0


@runbook_step(BACKUP, "uploads")
def test_uploads_volume_is_archived(run, step, extras):
    archived = step(run)
    evidence.data(extras, "uploads (store or archive)", archived or "disabled ([backup] uploads_archive = false)")


@runbook_step(BACKUP, "paths")
def test_host_paths_are_archived(run, step, extras):
    archived = step(run)
    evidence.data(extras, "host paths ([backup] paths)", host_paths.described(archived))
    assert archived["entries"] > 0


@runbook_step(BACKUP, "manifest")
def test_manifest_is_complete(run, step, extras):
    written = step(run)
    evidence.table(extras, "row counts in the dump's snapshot",
                   [{"table": t, "rows": n} for t, n in written["row_counts"].items()])
    evidence.data(extras, "manifest", written)
    assert manifest.missing_fields(written) == []
    assert written["table_count"] > 0, "an empty database: nothing to back up"
    if run.ctx.config.database.revision_query:  # an app with no migration table has no revision to record
        assert written["alembic_revision"], "the schema revision is empty: [database] revision_query found no row"


@runbook_step(BACKUP, "verify")
def test_checksum_matches_manifest(run, step):
    recorded = step(run)
    assert recorded["dump"]["sha256"] == run.dump.sha256


@runbook_step(BACKUP, "remote")
def test_offsite_remote_is_reachable(run, step, extras):
    status = step(run)
    evidence.data(extras, "remote", {"path": status.path, "type": status.remote_type, "crypt": status.crypt})


@runbook_step(BACKUP, "upload")
def test_offsite_copy_matches(run, step, extras):
    uploaded = step(run)
    evidence.data(extras, "uploaded now (everything the remote lacked)", uploaded)
    if run.damaged:
        evidence.data(extras, "remote copies whose size or hash differs from the one recorded "
                              "(sent again where the local file exists)", run.damaged)
    if run.transferred:
        evidence.table(extras, "transferred (rclone's final stats of each copy)", run.transferred)
    assert run.manifest["dump"]["file"] in run.remote_files


def _retention_evidence(extras, result, collected=None) -> None:
    rows = [{"set": v.set.name, "taken": v.set.taken_at.isoformat(), "verified": v.set.verified,
             "verdict": verdict, "why": v.reason}
            for verdict, verdicts in (("keep", result.decision.keep), ("delete", result.decision.delete))
            for v in verdicts]
    evidence.table(extras, f"{result.where}: {result.policy.describe()}", rows)
    evidence.data(extras, f"{result.where}: listing after pruning", result.listing_after)
    if result.deferred:
        evidence.data(extras, f"{result.where}: pruning deferred", result.deferred)
    if result.unverified:
        evidence.data(extras, f"{result.where}: sets NOT verified (a remote copy is short or altered and "
                              "no local copy is left to send; never counted toward min_sets)", result.unverified)
    if collected is not None:
        evidence.data(extras, f"{collected.where}: uploads store garbage collection", {
            "kept lists read": collected.kept_lists, "objects referenced": collected.referenced,
            "objects before": collected.present_before, "deleted": collected.deleted,
            "unreferenced but within the grace period (kept)": collected.young,
            "objects after": len(collected.present_after), "referenced but absent": collected.missing_after})
    if result.left_alone:
        evidence.data(extras, f"{result.where}: sets that are not this stack's ({result.identity.describe()}), "
                              "left alone", result.left_alone)


@runbook_step(BACKUP, "prune_local")
def test_local_listing_matches_retention_policy(run, step, extras):
    result = step(run)
    _retention_evidence(extras, result, run.local_collect)
    assert result.sets_after == result.expected_sets
    assert run.set_name in result.sets_after
    assert run.local_collect.missing_after == []


@runbook_step(BACKUP, "prune_remote")
def test_remote_listing_matches_retention_policy(run, step, extras):
    result = step(run)
    _retention_evidence(extras, result, run.remote_collect)
    assert result.sets_after == result.expected_sets
    assert run.set_name in result.sets_after
    assert run.remote_collect.missing_after == []
