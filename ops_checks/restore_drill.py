"""Runbook: restore a verified backup and prove it: the monthly drill, or a disaster restore.

    pytest ops_checks/restore_drill.py [--backup=SET | --from-remote] [--keep]
    CONFIRM=YES pytest ops_checks/restore_drill.py --mode=disaster [--backup=SET | --from-remote]

Test mode (the default) restores into a throwaway server with no network (Postgres; for a SQLite
file, a container of the backup image holding the decompressed copy) and removes it; the live
database is untouched. Disaster mode restores into a NEW database volume and a NEW uploads
volume, verifies both the same way, then switches the stack to them together; the old volumes are
kept, and the report says how to switch back.
"""

import pytest

from procedures.restore import drill
from procedures.restore.drill import RESTORE, RestoreOptions
from runbook_plugin.steps import runbook_step

from . import evidence, summary

ARCHIVE_REPORTS_OFFSITE = True


@pytest.fixture(scope="module")
def run(ops, pytestconfig, runbook_record, runbook_summary):
    """The restore run; the lock, backup container and servers its steps start are undone on exit.
    Its record fields (seed 004's drill record) go into the JSON record beside the report."""
    options = RestoreOptions(mode=pytestconfig.getoption("ops_mode"), requested=pytestconfig.getoption("ops_backup"),
                             from_remote=pytestconfig.getoption("ops_from_remote"),
                             keep=pytestconfig.getoption("ops_keep"),
                             break_stale_lock=pytestconfig.getoption("break_stale_lock"))
    with drill.open_run(ops, options) as opened:
        opened.record = runbook_record
        runbook_summary.read(summary.restore, opened)
        yield opened


@runbook_step(RESTORE, "confirm")
def test_confirmed_with_confirm_yes(run, step, extras):
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    evidence.data(extras, "confirmation", step(run))


@runbook_step(RESTORE, "choose")
def test_backup_chosen_and_verified(run, step, extras):
    """Choose the newest verified backup (or --backup; --from-remote downloads it) and re-check its checksums."""
    evidence.data(extras, "backup", step(run))


@runbook_step(RESTORE, "stop_writers")
def test_writers_stopped(run, step, extras):
    """Stop the app services so nothing writes to the database being replaced."""
    evidence.data(extras, "stopped", step(run))


@runbook_step(RESTORE, "throwaway_server")
def test_throwaway_server_started_isolated(run, step, extras):
    """Start a throwaway server: no network, a fresh volume of its own, backups read-only."""
    server = step(run)
    evidence.data(extras, "throwaway server", {"container": server.container, "volume": server.volume,
                                               "network": "none"})


@runbook_step(RESTORE, "new_volume")
def test_new_volume_created_and_server_started(run, step, extras):
    """Create a NEW database volume and start an isolated Postgres on it (the live volume is not touched);
    for a database outside the stack, a NEW database on its server."""
    server = step(run)
    evidence.data(extras, "restore target", server.describe())


@runbook_step(RESTORE, "restore")
def test_pg_restore_succeeds(run, step, extras):
    """pg_restore --no-owner --no-privileges with parallel jobs; exit status 0."""
    evidence.data(extras, "pg_restore", step(run))


@runbook_step(RESTORE, "row_counts")
def test_row_counts_match_manifest(run, step, extras):
    """Table count and per-table row counts equal the dump's manifest."""
    try:
        step(run)
    finally:
        evidence.table(extras, "row counts: manifest vs restored", run.record.get("row_counts", []))


@runbook_step(RESTORE, "revision")
def test_schema_revision_matches_manifest(run, step, extras):
    """The restored schema revision ([database] revision_query) equals the manifest's."""
    try:
        step(run)
    finally:
        evidence.data(extras, "schema revision", run.record.get("revision"))


@runbook_step(RESTORE, "samples")
def test_sample_queries_return_rows(run, step, extras):
    """The configured sample queries return rows from the restored copy."""
    try:
        step(run)
    finally:
        evidence.table(extras, "sample queries", run.record.get("samples", []))


@runbook_step(RESTORE, "uploads")
def test_uploads_restored_match_the_recorded_list(run, step, extras):
    """Unpack the uploads archive into a throwaway volume; every file equals the list recorded at backup time."""
    try:
        step(run)
    finally:
        evidence.data(extras, "uploads: recorded list vs restored", run.record.get("uploads"))


@runbook_step(RESTORE, "paths")
def test_host_paths_extracted_match_the_manifest(run, step, extras):
    """Extract the archive of [backup] paths into a throwaway volume; every member equals the manifest's."""
    try:
        step(run)
    finally:
        evidence.data(extras, "host paths: extracted vs recorded", run.record.get("paths"))


@runbook_step(RESTORE, "uploads_volume")
def test_uploads_restored_into_a_new_volume(run, step, extras):
    """Disaster mode: rebuild the set's uploads into a NEW volume with their owners; every file equals the list."""
    try:
        step(run)
    finally:
        evidence.data(extras, "uploads: recorded list vs restored (new volume)", run.record.get("uploads"))


@runbook_step(RESTORE, "switch")
def test_stack_switched_to_restored_volume(run, step, extras):
    """Switch the stack to the new volumes (database and uploads, both or neither); old volumes kept."""
    switched = step(run)
    evidence.data(extras, "switch", {**vars(switched), "switch back": switched.how_to_switch_back()})


@runbook_step(RESTORE, "ready")
def test_readyz_green_on_restored_database(run, step, extras):
    """/readyz green through the reverse proxy and /version reports the TAG, on the restored database."""
    evidence.data(extras, "readiness", step(run))


@runbook_step(RESTORE, "recovery_times")
def test_recovery_times_measured(run, step, extras):
    """RTO from the decision (before choosing and downloading the set) to verified, or to serving in disaster
    mode; RPO the age of the newest verified offsite set (the data a lost server would lose)."""
    measured = step(run)
    evidence.data(extras, "recovery times", {
        "RTO seconds": measured["rto_seconds"], "restore alone seconds": measured["restore_seconds"],
        "RPO hours": measured["rpo_hours"], "RPO set (newest verified offsite)": measured["rpo_set"],
        "restored set's age seconds": measured["set_age_seconds"],
        "kept for inspection": run.server.how_to_connect() if run.keeps_server else "no (cleaned up)"})
    if run.keeps_server:
        print(run.server.how_to_connect())


@runbook_step(RESTORE, "stack_left_serving")
def test_stack_left_serving(run, step, failed_step, extras):
    """Say where the stack stands; after a failure before the switch, restart the app on the volume it kept."""
    try:
        step(run, failed_step)
    finally:
        evidence.data(extras, "stack", run.record.get("stack"))
