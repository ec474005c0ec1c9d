"""Runbook: switch the stack's database to another existing volume (going back after a disaster restore).

    CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume=NAME

The volume the stack leaves is kept as it is; nothing is restored or removed. The stack's config
([volumes] database, and PGDATA_VOLUME in its env file if it has one) is rewritten to NAME, and
the file as it was is kept beside it.
"""

import contextlib
import os

import pytest

from procedures import backup, disaster, lock, volume_switch, volumes
from procedures.deploy import check_ready
from procedures.errors import ConfigError

from . import evidence

ARCHIVE_REPORTS_OFFSITE = True
state: dict = {}


@pytest.fixture(scope="module")
def switch(ops, pytestconfig):
    """The switch under the operations lock."""
    target = pytestconfig.getoption("ops_volume")
    if not target:
        raise ConfigError("no target volume: pass --volume=NAME (docker volume ls; the report of the "
                          "disaster restore names the old volume)")
    ctx = backup.with_serving_tag(ops)
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(lock.hold_stack(ctx.config, "switch database volume",
                                              break_stale=pytestconfig.getoption("break_stale_lock")))
        yield {"ctx": ctx, "target": target}


@pytest.mark.order(1)
def test_confirmed_with_confirm_yes(extras):
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    disaster.require_confirmation(os.environ)
    evidence.data(extras, "confirmation", {"CONFIRM": "YES"})


@pytest.mark.order(2)
def test_target_volume_exists(switch, extras):
    """The target volume exists, is not a drill's throwaway, and is not the one in use."""
    facts = volume_switch.check_target(switch["ctx"], switch["target"])
    evidence.data(extras, "target volume", vars(facts))


@pytest.mark.order(3)
def test_stack_switched(switch, extras, runbook_record):
    """Stop the app and the db, recreate the db on the target volume, rewrite the config, start the app."""
    state["ctx"], result = volume_switch.switch_database_volume(switch["ctx"], switch["target"], "switch by operator")
    runbook_record.update({"from_volume": result.from_volume, "to_volume": result.to_volume})
    evidence.data(extras, "volume switch", {**vars(result), "switch back": result.how_to_switch_back()})


@pytest.mark.order(4)
def test_readyz_green_on_target_volume(extras):
    """/readyz green through the reverse proxy on the target volume, and /version reports the TAG."""
    assert volumes.mounted_database_volume(state["ctx"]) == state["ctx"].config.volumes.database
    evidence.data(extras, "readiness", check_ready(state["ctx"]))
