"""Runbook: first install (or restart) of the stack at --tag.

Creates the external database volume only when it is missing and migrates only that new, empty
database; an existing database is left to deploy, which takes a verified backup first.
"""

import pytest

from procedures.release import install
from procedures.release.install import INSTALL
from runbook_plugin.steps import runbook_step

from . import evidence, summary

TAG_REQUIRED = True  # no --tag: refused before the first step (runbook_plugin/options.py)


@pytest.fixture(scope="module")
def run(ops, pytestconfig, runbook_summary):
    with install.open_run(ops, break_stale_lock=pytestconfig.getoption("break_stale_lock")) as opened:
        runbook_summary.read(summary.install, opened)
        yield opened


@runbook_step(INSTALL, "build")
def test_release_built_from_checkout(run, step, extras):
    """With [build]: the release built from the app's checkout (a git tag or commit), as deploy builds it."""
    evidence.data(extras, "release built on the server", step(run))


@runbook_step(INSTALL, "no_other_release")
def test_tag_is_explicit_and_no_other_release_serves(run, step, extras):
    evidence.data(extras, "release", {"TAG": run.ctx.tag, "already serving": step(run)})


@runbook_step(INSTALL, "database_volume")
def test_database_volume_exists_or_is_created(run, step, extras):
    volume = step(run)
    evidence.data(extras, "database volume", {"name": volume.facts.name, "created now": volume.created,
                                              "identity": volume.facts.identity})
    assert volume.facts.name == run.ctx.config.volumes.database


@runbook_step(INSTALL, "database_healthy")
def test_database_is_healthy(run, step, extras):
    """A database service of the stack is started and healthy; a database outside it answers at the URL."""
    state = step(run)
    evidence.data(extras, "database", state)
    assert state.get("health") == "healthy" or state.get("version") or state.get("file")


@runbook_step(INSTALL, "migrate_new_database")
def test_new_database_is_migrated_by_one_off_task(run, step, extras):
    migrated = step(run)
    evidence.data(extras, "migrate", {"ran": migrated.ran, "why": migrated.reason,
                                      "seconds": round(migrated.seconds, 1)})


@runbook_step(INSTALL, "one_offs")
def test_app_one_off_tasks_completed(run, step, extras):
    """The app's own one-off tasks (migrate aside), in dependency order, exit 0."""
    evidence.table(extras, "one-off tasks", step(run) or [{"one-off tasks": "none in the compose model"}])


@runbook_step(INSTALL, "app_healthy")
def test_app_services_are_healthy(run, step, extras):
    states = step(run)
    evidence.table(extras, "services", [vars(s) for s in states.values()])
    assert all(s.good for s in states.values())


@runbook_step(INSTALL, "ready")
def test_readyz_is_green_through_proxy(run, step, extras):
    result = step(run)
    evidence.data(extras, "readyz", {"url": result.url, "status": result.status, "body": result.body})
    assert result.ok


@runbook_step(INSTALL, "record")
def test_release_recorded_in_ledger(run, step, extras):
    evidence.data(extras, "release ledger entry", step(run))
