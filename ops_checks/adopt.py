"""Runbook: take over a stack that runs under plain `docker compose up`, its data in place.

    CONFIRM=YES pytest ops_checks/adopt.py --ops-config=PATH [--tag=SERVING_TAG]

A verified backup of the database as it runs comes first; then the database is recreated on the
same volume, now external in the prod overlay, and the app started on its serving TAG (never
migrated); the same volume, cluster and rows prove nothing was lost. See docs/ADOPTING.md.
"""

import pytest

from procedures.adopt import takeover
from procedures.adopt.takeover import ADOPT
from runbook_plugin.steps import runbook_step

from . import evidence, summary


@pytest.fixture(scope="module")
def run(ops, pytestconfig, runbook_summary):
    with takeover.open_run(ops, break_stale_lock=pytestconfig.getoption("break_stale_lock")) as opened:
        runbook_summary.read(summary.adopt, opened)
        yield opened


@runbook_step(ADOPT, "found_running")
def test_stack_runs_on_the_configured_database_volume(run, step, extras):
    """The stack runs and its database mounts the volume [volumes] database names."""
    evidence.data(extras, "found running", step(run))


@runbook_step(ADOPT, "first_backup")
def test_verified_backup_before_any_change(run, step, extras):
    """A verified backup of the database as it runs, before anything changes."""
    taken = step(run)
    evidence.data(extras, "first backup", {"set": taken.set_name, "bytes": taken.dump_size, "sha256": taken.sha256,
                                           "uploaded": taken.uploaded})


@runbook_step(ADOPT, "take_over")
def test_taken_over_under_the_overlay(run, step, extras):
    """The database recreated on the same volume (now external), the app started on its TAG; no migration."""
    evidence.data(extras, "take-over", step(run))


@runbook_step(ADOPT, "same_data")
def test_same_volume_cluster_and_rows(run, step, extras):
    """The same volume and cluster, and every table holds at least the backup's rows."""
    found = step(run)
    evidence.table(extras, "rows: backup vs now", found.pop("rows"))
    evidence.data(extras, "same data", found)


@runbook_step(ADOPT, "ready")
def test_ready_version_and_smoke(run, step, extras):
    """Readiness through the proxy, the release is the TAG, the smoke checks pass."""
    evidence.data(extras, "readiness and smoke", step(run))


@runbook_step(ADOPT, "record")
def test_adoption_recorded(run, step, extras):
    """The adopted release is in the ledger and audit log."""
    evidence.data(extras, "release ledger entry", step(run))
