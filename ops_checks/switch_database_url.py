"""Runbook: switch the app to another database on the server its URL names (going back after a
disaster restore of a database outside the stack, [database] engine = "postgres-url").

    CONFIRM=YES pytest ops_checks/switch_database_url.py --database=NAME

Only the database name in the URL changes (user, password, host and parameters stay); the line of
[database] url_file that sets it is rewritten and the file as it was is kept beside it. No database
is created, written or dropped. The disaster restore's report gives the exact command to go back.
"""

import pytest

from procedures.restore.url_switch import SWITCH_URL, UrlSwitchRun
from runbook_plugin.steps import runbook_step

from . import evidence, summary

ARCHIVE_REPORTS_OFFSITE = True


@pytest.fixture(scope="module")
def run(ops, pytestconfig, runbook_summary):
    """The switch; the operations lock it takes is released on every exit."""
    opened = UrlSwitchRun(ops, pytestconfig.getoption("ops_database"),
                          break_stale_lock=pytestconfig.getoption("break_stale_lock"))
    runbook_summary.read(summary.url_switch, opened)
    with opened.cleanup:
        yield opened


@runbook_step(SWITCH_URL, "confirm")
def test_confirmed_with_confirm_yes(run, step, extras):
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    evidence.data(extras, "confirmation", step(run))


@runbook_step(SWITCH_URL, "target")
def test_target_database_exists(run, step, extras):
    """The target database exists on the server the URL names and is not the one in use."""
    evidence.data(extras, "target database", step(run))


@runbook_step(SWITCH_URL, "switch")
def test_app_switched(run, step, extras, runbook_record):
    """Rewrite the URL's database in its env file, restart the serving services on it."""
    result = step(run)
    runbook_record.update({"from_database": result.from_database, "to_database": result.to_database})
    evidence.data(extras, "database switch", {**vars(result), "switch back": result.how_to_switch_back()})


@runbook_step(SWITCH_URL, "ready")
def test_readyz_green_on_target_database(run, step, extras):
    """/readyz green through the reverse proxy on the target database, and /version reports the TAG."""
    evidence.data(extras, "readiness", step(run))
