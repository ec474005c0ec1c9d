"""Runbook: switch the stack's database (and its uploads) to other existing volumes (going back after
a disaster restore).

    CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume=NAME [--uploads-volume=NAME]

The volumes the stack leaves are kept as they are; nothing is restored or removed. Database and
uploads move together or not at all. The stack's config ([volumes] database and uploads_volume, and
PGDATA_VOLUME / UPLOADS_VOLUME in its env file where it has those lines) is rewritten, and the file
as it was is kept beside it. The disaster restore's report gives the exact command to go back.
"""

import pytest

from procedures.restore.volume_switch import SWITCH_VOLUME, SwitchRun
from runbook_plugin.steps import runbook_step

from . import evidence, summary

ARCHIVE_REPORTS_OFFSITE = True


@pytest.fixture(scope="module")
def run(ops, pytestconfig, runbook_summary):
    """The switch; the operations lock it takes is released on every exit."""
    opened = SwitchRun(ops, pytestconfig.getoption("ops_volume"), pytestconfig.getoption("ops_uploads_volume"),
                       break_stale_lock=pytestconfig.getoption("break_stale_lock"))
    runbook_summary.read(summary.volume_switch, opened)
    with opened.cleanup:
        yield opened


@runbook_step(SWITCH_VOLUME, "confirm")
def test_confirmed_with_confirm_yes(run, step, extras):
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    evidence.data(extras, "confirmation", step(run))


@runbook_step(SWITCH_VOLUME, "target")
def test_target_volume_exists(run, step, extras):
    """The target volumes exist, are this stack's, are not in use, and the database one holds a cluster."""
    evidence.data(extras, "target volumes", step(run))


@runbook_step(SWITCH_VOLUME, "switch")
def test_stack_switched(run, step, extras, runbook_record):
    """Stop the app and the db, recreate the db on the target volume, rewrite the config, start the app."""
    result = step(run)
    runbook_record.update({"from_volume": result.from_volume, "to_volume": result.to_volume,
                           "from_uploads_volume": result.from_uploads_volume,
                           "to_uploads_volume": result.to_uploads_volume})
    evidence.data(extras, "volume switch", {**vars(result), "switch back": result.how_to_switch_back()})


@runbook_step(SWITCH_VOLUME, "ready")
def test_readyz_green_on_target_volume(run, step, extras):
    """/readyz green through the reverse proxy on the target volume, and /version reports the TAG."""
    evidence.data(extras, "readiness", step(run))
