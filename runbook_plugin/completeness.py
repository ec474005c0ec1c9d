"""Did every step of the runbook run? A run where some did not (--collect-only, -k, --deselect, -x,
--maxfail, --lf, an interrupted step, steps "blocked by step N" after a failure) is INCOMPLETE: its
record says how many of the steps its runbook defines ran, and nothing downstream (header, history,
freshness) counts it as a pass; a failed run that is also incomplete stays failed and says both.

What a check defines is read from the runbook definitions (procedures/) before pytest selects
anything, so a selection cannot shrink it; a module without runbook steps defines its test functions.
"""

import pytest

from procedures.execution import step_label

from .state import DEFINED_STEPS, RAN_STEPS, is_runbook_step


def defined_steps(items, mode: str) -> dict[str, list[str]]:
    """Module path -> the step names it defines for this mode, in runbook order."""
    defined: dict[str, list[str]] = {}
    for item in items:
        if not is_runbook_step(item):
            continue
        marker = item.get_closest_marker("runbook_step")
        names = ([s.name for s in marker.args[0].for_mode(mode)] if marker else
                 [n for n, f in vars(item.module).items() if n.startswith("test") and callable(f)])
        module = defined.setdefault(str(item.path), [])
        module += [n for n in names if n not in module]
    return defined


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Before -k, --deselect, --lf and --mode choose (they act after this wrapper's first half)."""
    config.stash[DEFINED_STEPS] = defined_steps(items, config.getoption("ops_mode"))
    config.stash.setdefault(RAN_STEPS, set())
    yield


def step_ran(config, item, name: str) -> None:
    """Count a step as run: it left a report of its own (a blocked step's skip row is not one)."""
    config.stash.setdefault(RAN_STEPS, set()).add((str(item.path), name))


def completeness(config) -> dict:
    """The record's fields: steps_defined, steps_run, complete, steps_not_run ("step N (name)")."""
    defined = config.stash.get(DEFINED_STEPS, {})
    ran = config.stash.get(RAN_STEPS, set())
    not_run = [step_label(number, name) for path, names in sorted(defined.items())
               for number, name in enumerate(names, start=1) if (path, name) not in ran]
    total = sum(len(names) for names in defined.values())
    return {"steps_defined": total, "steps_run": total - len(not_run), "steps_not_run": not_run,
            "complete": total > 0 and not not_run}


def outcome(steps: list[dict], complete: bool, exitstatus: int) -> str:
    """passed only when every defined step ran and pytest exited 0; a failed step makes it failed,
    a missing one (nothing failed) incomplete."""
    if any(s["outcome"] == "failed" for s in steps):
        return "failed"
    if not complete:
        return "incomplete"
    return "passed" if exitstatus == 0 else "failed"
