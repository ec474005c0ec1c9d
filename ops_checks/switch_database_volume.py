"""Runbook: switch the stack's database to another existing volume (going back after a disaster restore).

    CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume=NAME

The volume the stack leaves is kept as it is; nothing is restored or removed. The stack's config
([volumes] database, and PGDATA_VOLUME in its env file if it has one) is rewritten to NAME, and
the file as it was is kept beside it.
"""

import pytest

from procedures.restore.volume_switch import SWITCH_VOLUME, SwitchRun
from runbook_plugin.steps import runbook_step

from . import evidence

ARCHIVE_REPORTS_OFFSITE = True


@pytest.fixture(scope="module")
def run(ops, pytestconfig):
    """The switch; the operations lock it takes is released on every exit."""
    opened = SwitchRun(ops, pytestconfig.getoption("ops_volume"),
                       break_stale_lock=pytestconfig.getoption("break_stale_lock"))
    with opened.cleanup:
        yield opened


@runbook_step(SWITCH_VOLUME, "confirm")
def test_confirmed_with_confirm_yes(run, step, extras):
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    evidence.data(extras, "confirmation", step(run))


@runbook_step(SWITCH_VOLUME, "target")
def test_target_volume_exists(run, step, extras):
    """The target volume exists, is not a drill's throwaway, and is not the one in use."""
    evidence.data(extras, "target volume", vars(step(run)))


@runbook_step(SWITCH_VOLUME, "switch")
def test_stack_switched(run, step, extras, runbook_record):
    """Stop the app and the db, recreate the db on the target volume, rewrite the config, start the app."""
    result = step(run)
    runbook_record.update({"from_volume": result.from_volume, "to_volume": result.to_volume})
    evidence.data(extras, "volume switch", {**vars(result), "switch back": result.how_to_switch_back()})


@runbook_step(SWITCH_VOLUME, "ready")
def test_readyz_green_on_target_volume(run, step, extras):
    """/readyz green through the reverse proxy on the target volume, and /version reports the TAG."""
    evidence.data(extras, "readiness", step(run))
