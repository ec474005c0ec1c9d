"""Runbook: restore a verified backup and prove it: the monthly drill, or a disaster restore.

    pytest ops_checks/restore_drill.py [--backup=SET | --from-remote] [--keep]
    CONFIRM=YES pytest ops_checks/restore_drill.py --mode=disaster [--backup=SET | --from-remote]

Test mode (the default) restores into a throwaway Postgres with no network and removes it; the
live database is untouched. Disaster mode restores into a NEW volume, verifies it the same way,
then switches the stack to it; the old volume is kept, and the report says how to switch back.
"""

import contextlib
import os
import time

import pytest

from procedures import backup, disaster, lock, remote_fetch, restore, volume_switch
from procedures.backup_box import backup_box
from procedures.deploy import check_ready

from . import evidence

ARCHIVE_REPORTS_OFFSITE = True
TEST, DISASTER = pytest.mark.mode("test"), pytest.mark.mode("disaster")
state: dict = {}


@pytest.fixture(scope="module", autouse=True)
def fresh_state():
    state.clear()


@pytest.fixture(scope="module")
def drill(ops, pytestconfig):
    """The run under the operations lock, with one backup container for every file operation."""
    mode = pytestconfig.getoption("ops_mode")
    ctx = backup.with_serving_tag(ops)
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(lock.hold_stack(ctx.config, f"restore ({mode})",
                                              break_stale=pytestconfig.getoption("break_stale_lock")))
        box = cleanup.enter_context(backup_box(ctx))
        yield {"ctx": ctx, "box": box, "cleanup": cleanup, "keep": pytestconfig.getoption("ops_keep"),
               "requested": pytestconfig.getoption("ops_backup"), "mode": mode,
               "from_remote": pytestconfig.getoption("ops_from_remote")}


@pytest.mark.order(1)
@DISASTER
def test_confirmed_with_confirm_yes(extras):
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    disaster.require_confirmation(os.environ)
    state["confirmed"] = True
    evidence.data(extras, "confirmation", {"CONFIRM": "YES"})


@pytest.mark.order(2)
@TEST
@DISASTER
def test_backup_chosen_and_verified(drill, extras, runbook_record):
    """Choose the newest verified backup (or --backup; --from-remote downloads it) and re-check its checksums."""
    if drill["from_remote"]:
        chosen = remote_fetch.fetch_set(drill["ctx"], drill["box"], drill["requested"])
        if not drill["keep"]:
            drill["cleanup"].callback(remote_fetch.remove_fetched, drill["ctx"], drill["box"], chosen)
    else:
        chosen = restore.choose_backup(drill["ctx"], drill["box"], drill["requested"])
    state["chosen"] = chosen
    facts = {"backup_set": chosen.set_name, "backup_file": chosen.dump_file,
             "backup_sha256": chosen.manifest["dump"]["sha256"], "backup_taken_at": chosen.manifest["started_at"],
             "backup_age_hours": round(chosen.age_seconds / 3600, 2),
             "backup_source": "remote" if drill["from_remote"] else "local", "mode": drill["mode"]}
    runbook_record.update(facts)
    evidence.data(extras, "backup", facts)


@pytest.mark.order(3)
@DISASTER
def test_writers_stopped(drill, extras):
    """Stop the app services so nothing writes to the database being replaced."""
    state["started"] = time.monotonic()
    state["stopped"] = disaster.stop_writers(drill["ctx"])
    evidence.data(extras, "stopped", state["stopped"])


@pytest.mark.order(4)
@TEST
def test_throwaway_server_started_isolated(drill, extras):
    """Start a throwaway Postgres: no network, a fresh volume of its own, backups read-only."""
    state["started"] = time.monotonic()
    server = state["server"] = drill["cleanup"].enter_context(
        restore.throwaway_server(drill["ctx"], drill["box"], state["chosen"].manifest["database"], keep=drill["keep"]))
    evidence.data(extras, "throwaway server", {"container": server.container, "volume": server.volume,
                                               "network": "none"})


@pytest.mark.order(5)
@DISASTER
def test_new_volume_created_and_server_started(drill, extras, runbook_record):
    """Create a NEW database volume and start an isolated Postgres on it (the live volume is not touched)."""
    server = state["server"] = disaster.restore_server_on_new_volume(drill["ctx"], drill["box"],
                                                                     state["chosen"].set_name)
    drill["cleanup"].callback(disaster.stop_restore_server, server)
    runbook_record["new_volume"] = server.volume
    evidence.data(extras, "restore server", {"container": server.container, "new volume": server.volume,
                                             "network": "none"})


@pytest.mark.order(6)
@TEST
@DISASTER
def test_pg_restore_succeeds(drill, extras):
    """pg_restore --no-owner --no-privileges with parallel jobs; exit status 0."""
    jobs = drill["ctx"].config.restore.jobs
    seconds = restore.restore_dump(state["server"], state["chosen"], jobs)
    evidence.data(extras, "pg_restore", {"jobs": jobs, "seconds": round(seconds, 2)})


@pytest.mark.order(7)
@TEST
@DISASTER
def test_row_counts_match_manifest(extras, runbook_record):
    """Table count and per-table row counts equal the dump's manifest."""
    rows = restore.compare_counts(state["chosen"].manifest, restore.restored_counts(state["server"]))
    runbook_record["row_counts"] = rows
    evidence.table(extras, "row counts: manifest vs restored", rows)
    assert all(r["match"] for r in rows), [r for r in rows if not r["match"]]


@pytest.mark.order(8)
@TEST
@DISASTER
def test_alembic_revision_matches_manifest(extras):
    """The restored alembic revision equals the manifest's."""
    restored = restore.restored_revision(state["server"])
    evidence.data(extras, "alembic revision", {"manifest": state["chosen"].manifest["alembic_revision"],
                                               "restored": restored})
    assert restored == state["chosen"].manifest["alembic_revision"]


@pytest.mark.order(9)
@TEST
@DISASTER
def test_sample_queries_return_rows(drill, extras):
    """The configured sample queries return rows from the restored copy."""
    results = restore.run_samples(state["server"], drill["ctx"].config.restore.sample_queries)
    evidence.table(extras, "sample queries", results)
    assert all(r["rows"] > 0 for r in results), results


@pytest.mark.order(10)
@DISASTER
def test_stack_switched_to_restored_volume(drill, extras, runbook_record):
    """Switch the stack to the new volume: db recreated on it, config updated, app started; old volume kept."""
    disaster.stop_restore_server(state["server"])
    state["ctx"], switched = volume_switch.switch_database_volume(
        drill["ctx"], state["server"].volume, f"disaster restore of {state['chosen'].set_name}")
    state["switch"] = switched
    runbook_record.update({"old_volume": switched.from_volume, "switch_back": switched.how_to_switch_back()})
    evidence.data(extras, "volume switch", {**vars(switched), "switch back": switched.how_to_switch_back()})


@pytest.mark.order(11)
@DISASTER
def test_readyz_green_on_restored_database(extras):
    """/readyz green through the reverse proxy and /version reports the TAG, on the restored database."""
    evidence.data(extras, "readiness", check_ready(state["ctx"]))


@pytest.mark.order(12)
@TEST
@DISASTER
def test_recovery_times_measured(drill, extras, runbook_record):
    """RTO (server start, or the app stop in disaster mode, to verified) and RPO (age of the backup)."""
    measured = {"rto_seconds": round(time.monotonic() - state["started"], 2),
                "rpo_hours": round(state["chosen"].age_seconds / 3600, 2)}
    runbook_record.update(measured)
    keep = drill["keep"] and drill["mode"] == "test"
    evidence.data(extras, "recovery times", {
        "RTO seconds": measured["rto_seconds"], "RPO hours": measured["rpo_hours"],
        "kept for inspection": state["server"].how_to_connect() if keep else "no (cleaned up)"})
    if keep:
        print(state["server"].how_to_connect())


@pytest.mark.order(13)
@DISASTER
@pytest.mark.always_run
def test_stack_left_serving(request, failed_step, extras, runbook_record):
    """Say where the stack stands; after a failure before the switch, restart the app on the volume it kept."""
    if "confirmed" not in state:
        pytest.fail("refused without CONFIRM=YES: nothing was changed")
    drill = request.getfixturevalue("drill")
    if "switch" in state:
        where = {"serving from": state["switch"].to_volume, "old volume, kept": state["switch"].from_volume,
                 "switch back": state["switch"].how_to_switch_back()}
    else:
        if state.get("stopped"):
            disaster.resume_writers(drill["ctx"])
        where = {"serving from": drill["ctx"].config.volumes.database, "switched": False,
                 "new volume, kept for inspection": state["server"].volume if "server" in state else None}
    runbook_record["stack"] = where
    evidence.data(extras, "stack", where)
    if failed_step:
        pytest.fail(f"disaster restore failed at {failed_step}; the stack serves from {where['serving from']}")
