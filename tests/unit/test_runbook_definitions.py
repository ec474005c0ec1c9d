"""Each runbook is defined once in procedures/; its ops check runs exactly those steps, in that order."""

import importlib
from pathlib import Path

import pytest

from procedures.adopt.discover import DISCOVER
from procedures.adopt.takeover import ADOPT
from procedures.backup.offsite_setup import OFFSITE_SETUP
from procedures.backup.pipeline import BACKUP
from procedures.engines import ENGINES
from procedures.health.freshness import FRESHNESS
from procedures.release.deploy import DEPLOY
from procedures.release.install import INSTALL
from procedures.release.rollback import ROLLBACK
from procedures.restore.drill import RESTORE
from procedures.restore.url_switch import SWITCH_URL
from procedures.restore.volume_switch import SWITCH_VOLUME
from procedures.runbook import Runbook, Step
from procedures.stack.checkup import HEALTH

pytestmark = pytest.mark.unit

CHECKS = {"adopt": ADOPT, "discover": DISCOVER, "backup": BACKUP, "deploy": DEPLOY, "install": INSTALL, "rollback": ROLLBACK,
          "restore_drill": RESTORE, "switch_database_volume": SWITCH_VOLUME,
          "switch_database_url": SWITCH_URL, "stack_health": HEALTH, "freshness": FRESHNESS,
          "offsite_setup": OFFSITE_SETUP}


def check_steps(module_name: str) -> list[tuple[int, Runbook, Step]]:
    """(order, runbook, step) of every test function of an ops check module, in order."""
    module = importlib.import_module(f"ops_checks.{module_name}")
    found = []
    for name, function in vars(module).items():
        if not name.startswith("test_"):
            continue
        marks = {m.name: m for m in getattr(function, "pytestmark", [])}
        assert "runbook_step" in marks, f"ops_checks/{module_name}.py::{name} is not tied to a runbook step"
        found.append((marks["order"].args[0], *marks["runbook_step"].args))
    return sorted(found, key=lambda row: row[0])


@pytest.mark.parametrize("module_name", sorted(CHECKS))
def test_every_step_has_exactly_one_check_in_runbook_order(module_name):
    runbook = CHECKS[module_name]
    found = check_steps(module_name)
    assert {r.name for _, r, _ in found} == {runbook.name}
    assert [s.name for _, _, s in found] == [s.name for s in runbook.steps]
    assert [order for order, _, _ in found] == list(range(1, len(runbook.steps) + 1))


def test_every_check_module_is_a_known_runbook():
    modules = {p.stem for p in (Path(__file__).resolve().parents[2] / "ops_checks").glob("*.py")}
    assert modules - {"__init__", "evidence", "summary"} == set(CHECKS)  # helpers of the checks


def test_run_all_runs_a_modes_steps_in_order_and_always_run_steps_after_a_failure():
    ran = []

    def boom(run):
        ran.append("boom")
        raise RuntimeError("step failed")

    book = Runbook("demo", (
        Step("first", lambda run: ran.append("first")),
        Step("only_in_b", lambda run: ran.append("only_in_b"), modes=("b",)),
        Step("skipped", lambda run: ran.append("skipped"), skip_reason=lambda run: "not today"),
        Step("boom", boom),
        Step("blocked", lambda run: ran.append("blocked")),
        Step("finally", lambda run, failed: ran.append(f"finally after {failed}"), always_run=True),
    ))
    with pytest.raises(RuntimeError, match="step failed"):
        book.run_all(object(), mode="a")
    assert ran == ["first", "boom", "finally after step 3 (boom)"]


def test_a_mode_runs_only_its_steps():
    assert [s.name for s in RESTORE.for_mode("test")] == [
        "choose", "throwaway_server", "restore", "row_counts", "revision", "samples", "uploads", "paths",
        "recovery_times"]
    assert RESTORE.for_mode("disaster")[0].name == "confirm"
    assert RESTORE.for_mode("disaster")[-1].always_run


def test_engines_is_the_one_list_of_engines():
    """config.py names no engine: the list lives once, in procedures/engines (ENGINES)."""
    lines = (Path(__file__).parents[2] / "procedures" / "config.py").read_text().splitlines()
    code = "\n".join(line for line in lines if not line.strip().startswith("#") and "engine: str = " not in line)
    assert not [name for name in ENGINES if f'"{name}"' in code]
