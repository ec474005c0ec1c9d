"""Runbook: first install (or restart) of the stack at --tag.

Creates the external database volume only when it is missing and migrates only that new, empty
database; an existing database is left to deploy, which takes a verified backup first.
"""

import pytest

from procedures import install

from . import evidence

state: dict = {}


@pytest.mark.order(1)
def test_tag_is_explicit_and_no_other_release_serves(ops, extras):
    serving = install.refuse_other_release_serving(ops)
    evidence.data(extras, "release", {"TAG": ops.tag, "already serving": serving})


@pytest.mark.order(2)
def test_database_volume_exists_or_is_created(ops, extras):
    state["volume"] = step = install.ensure_database_volume(ops)
    evidence.data(extras, "database volume", {"name": step.facts.name, "created now": step.created,
                                              "identity": step.facts.identity})
    assert step.facts.name == ops.config.volumes.database


@pytest.mark.order(3)
def test_database_is_healthy(ops):
    assert install.start_database(ops).health == "healthy"


@pytest.mark.order(4)
def test_new_database_is_migrated_by_one_off_task(ops, extras):
    state["migrate"] = step = install.migrate_new_database(ops, state["volume"])
    evidence.data(extras, "migrate", {"ran": step.ran, "why": step.reason, "seconds": round(step.seconds, 1)})


@pytest.mark.order(5)
def test_app_services_are_healthy(ops, extras):
    states = install.start_app(ops)
    evidence.table(extras, "services", [vars(s) for s in states.values()])
    assert all(s.good for s in states.values())


@pytest.mark.order(6)
def test_readyz_is_green_through_proxy(ops, extras):
    result = install.check_ready(ops)
    evidence.data(extras, "readyz", {"url": result.url, "status": result.status, "body": result.body})
    assert result.ok


@pytest.mark.order(7)
def test_release_recorded_in_ledger(ops, extras):
    evidence.data(extras, "release ledger entry", install.record(ops, state["migrate"]))
