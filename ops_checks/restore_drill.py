"""Runbook: monthly restore drill (test mode) into a throwaway Postgres; the live database is untouched.

    pytest ops_checks/restore_drill.py [--backup=SET] [--keep]
"""

import contextlib
import time

import pytest

from procedures import backup, restore
from procedures.backup_box import backup_box

from . import evidence

state: dict = {}


@pytest.fixture(scope="module")
def drill(ops, pytestconfig):
    ctx = backup.with_serving_tag(ops)
    with contextlib.ExitStack() as cleanup:
        box = cleanup.enter_context(backup_box(ctx))
        yield {"ctx": ctx, "box": box, "cleanup": cleanup, "keep": pytestconfig.getoption("ops_keep"),
               "requested": pytestconfig.getoption("ops_backup")}


@pytest.mark.order(1)
def test_backup_chosen_and_verified(drill, extras, runbook_record):
    """Choose the newest verified backup (or --backup) and re-check its checksum and archive."""
    chosen = state["chosen"] = restore.choose_backup(drill["ctx"], drill["box"], drill["requested"])
    runbook_record.update({"backup_set": chosen.set_name, "backup_file": chosen.dump_file,
                           "backup_sha256": chosen.manifest["dump"]["sha256"],
                           "backup_taken_at": chosen.manifest["started_at"],
                           "backup_age_hours": round(chosen.age_seconds / 3600, 2)})
    evidence.data(extras, "backup", {"set": chosen.set_name, "sha256": chosen.manifest["dump"]["sha256"],
                                     "age hours (RPO)": round(chosen.age_seconds / 3600, 2)})


@pytest.mark.order(2)
def test_throwaway_server_started_isolated(drill, extras):
    """Start a throwaway Postgres: no network, a fresh volume of its own, backups read-only."""
    state["started"] = time.monotonic()
    server = state["server"] = drill["cleanup"].enter_context(
        restore.throwaway_server(drill["ctx"], drill["box"], state["chosen"].manifest["database"], keep=drill["keep"]))
    evidence.data(extras, "throwaway server", {"container": server.container, "volume": server.volume,
                                               "network": "none"})


@pytest.mark.order(3)
def test_pg_restore_succeeds(drill, extras):
    """pg_restore --no-owner --no-privileges with parallel jobs; exit status 0."""
    jobs = drill["ctx"].config.restore.jobs
    seconds = restore.restore_dump(state["server"], state["chosen"], jobs)
    evidence.data(extras, "pg_restore", {"jobs": jobs, "seconds": round(seconds, 2)})


@pytest.mark.order(4)
def test_row_counts_match_manifest(extras, runbook_record):
    """Table count and per-table row counts equal the dump's manifest."""
    rows = restore.compare_counts(state["chosen"].manifest, restore.restored_counts(state["server"]))
    runbook_record["row_counts"] = rows
    evidence.table(extras, "row counts: manifest vs restored", rows)
    assert all(r["match"] for r in rows), [r for r in rows if not r["match"]]


@pytest.mark.order(5)
def test_alembic_revision_matches_manifest(extras):
    """The restored alembic revision equals the manifest's."""
    restored = state["server"].query("SELECT string_agg(version_num, ',') FROM alembic_version").strip()
    evidence.data(extras, "alembic revision", {"manifest": state["chosen"].manifest["alembic_revision"],
                                               "restored": restored})
    assert restored == state["chosen"].manifest["alembic_revision"]


@pytest.mark.order(6)
def test_sample_queries_return_rows(drill, extras):
    """The configured sample queries return rows from the restored copy."""
    results = restore.run_samples(state["server"], drill["ctx"].config.restore.sample_queries)
    evidence.table(extras, "sample queries", results)
    assert all(r["rows"] > 0 for r in results), results


@pytest.mark.order(7)
def test_recovery_times_measured(drill, extras, runbook_record):
    """RTO (start of the throwaway server to verified) and RPO (age of the backup)."""
    runbook_record.update({"rto_seconds": round(time.monotonic() - state["started"], 2),
                           "rpo_hours": round(state["chosen"].age_seconds / 3600, 2)})
    measured = {"RTO seconds": round(time.monotonic() - state["started"], 2),
                "RPO hours": round(state["chosen"].age_seconds / 3600, 2),
                "kept for inspection": state["server"].how_to_connect() if drill["keep"] else "no (cleaned up)"}
    evidence.data(extras, "recovery times", measured)
    if drill["keep"]:
        print(state["server"].how_to_connect())
