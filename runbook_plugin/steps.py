"""Runbook steps as tests: ordered and moded from the runbook definitions, numbered, planned, blocked.

A check module marks each test with `@runbook_step(RUNBOOK, "name")`: its order, --mode and
always-run come from the one definition in procedures/, and the `step` fixture runs that step's
action. A failed step blocks every later step of its module ("blocked by step N"), and so does a step
this session does not run (-k, --deselect, --lf): a step never runs on the word of steps that did
not run (a deploy's record step after a deselected smoke check); always-run steps run and are told.
Steps are numbered by their place in the runbook, whatever was selected.
"""

import pytest

from procedures.redact import redact
from procedures.runbook import Runbook

from .state import BLOCKED, BLOCKED_BY, DEFINED_STEPS, NOT_SELECTED, STEP_NUMBER, is_runbook_step


def runbook_step(runbook: Runbook, name: str):
    """Mark a check function as the runbook's step `name` (order, modes and always-run from its definition)."""
    step = runbook.step(name)

    def mark(function):
        function = pytest.mark.order(runbook.position(name))(function)
        if step.modes:
            function = pytest.mark.mode(*step.modes)(function)
        if step.always_run:
            function = pytest.mark.always_run(function)
        return pytest.mark.runbook_step(runbook, step)(function)

    return mark


@pytest.fixture
def step(request):
    """Run this test's runbook step on a run (skipped, with the reason, when it does not apply)."""
    marker = request.node.get_closest_marker("runbook_step")
    if marker is None:
        raise pytest.UsageError(f"{request.node.name} uses the `step` fixture but has no @runbook_step mark")
    definition = marker.args[1]

    def run_step(run, *args):
        reason = definition.skip_reason(run)
        if reason:
            pytest.skip(reason)
        return definition.action(run, *args)

    return run_step


def blocker(item) -> str | None:
    """The earlier step of this item's module that failed, or that this session does not run."""
    failed = item.config.stash[BLOCKED_BY].get(item.path)
    if failed:
        return failed
    gap = item.config.stash.get(NOT_SELECTED, {}).get(str(item.path))
    return gap[1] if gap and gap[0] < item.stash.get(STEP_NUMBER, 0) else None


@pytest.fixture
def failed_step(request) -> str | None:
    """The runbook step that failed earlier in this module, or an earlier one this session does not
    run, if any (for always_run steps)."""
    return blocker(request.node)


def pytest_configure(config):
    config.stash[BLOCKED_BY] = {}
    config.addinivalue_line("markers", "always_run: a runbook step that runs even after a failed step")
    config.addinivalue_line("markers", "mode(*modes): a runbook step that runs only in these --mode values")
    config.addinivalue_line("markers", "runbook_step(runbook, step): the runbook step this test runs")


def step_doc(item) -> str:
    doc = item.function.__doc__ or item.name.removeprefix("test_").replace("_", " ")
    return doc.strip().splitlines()[0]


def step_name(item) -> str:
    marker = item.get_closest_marker("runbook_step")
    return marker.args[1].name if marker else item.name


def step_label(item) -> str:
    return f"step {item.stash.get(STEP_NUMBER, '?')} ({item.name})"


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(config, items):
    """After pytest-order: keep the steps of the chosen --mode, number them, print them for --plan."""
    yield
    mode = config.getoption("ops_mode")
    modes = {i: {arg for m in i.iter_markers("mode") for arg in m.args} for i in items}
    chosen = [i for i in items if not modes[i] or mode in modes[i]]
    if len(chosen) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
        items[:] = chosen
    counters: dict = {}
    defined = config.stash.get(DEFINED_STEPS, {})
    for item in items:
        counters[item.path] = counters.get(item.path, 0) + 1
        names, name = defined.get(str(item.path), []), step_name(item)
        item.stash[STEP_NUMBER] = names.index(name) + 1 if name in names else counters[item.path]
        if is_runbook_step(item):
            # pytest.ini's timeout guards the test suite: a step's commands each stop at their own
            # [timeouts] limit (procedures/runner.py), so a 15-minute dump must not be killed at 900 s.
            item.add_marker(pytest.mark.timeout(0))
    if not config.getoption("plan"):
        return
    writer = config.get_terminal_writer()
    current = None
    for item in items:
        if item.path != current:
            current = item.path
            writer.line(f"\n{item.module.__doc__.strip().splitlines()[0] if item.module.__doc__ else item.path.name}")
        writer.line(f"  {step_label(item).split(' (')[0]}. {step_doc(item)}")
    items[:] = []


def pytest_collection_finish(session):
    if session.config.getoption("plan"):
        pytest.exit("plan printed; nothing was run", returncode=0)
    session.config.stash[NOT_SELECTED] = first_not_selected(session.items, session.config.stash.get(DEFINED_STEPS, {}))


def first_not_selected(items, defined: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
    """Module path -> (number, label) of the first step it defines that is not among the items to run."""
    chosen = {(str(i.path), step_name(i)) for i in items}
    gaps = {}
    for path, names in defined.items():
        missing = [(n, name) for n, name in enumerate(names, start=1) if (path, name) not in chosen]
        if missing and any(p == path for p, _ in chosen):
            number, name = missing[0]
            gaps[path] = (number, f"step {number} ({name}), not run in this session (-k, --deselect or --lf)")
    return gaps


def pytest_runtest_setup(item):
    """A failed runbook step blocks every later step of its module."""
    if not is_runbook_step(item):
        return
    blocked_by = blocker(item)
    if blocked_by and not item.get_closest_marker("always_run"):
        item.stash[BLOCKED] = blocked_by  # completeness: a blocked step is a step not run
        pytest.skip(f"blocked by {blocked_by}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Name the step in its report row; a failure blocks the module's later steps and is summarised."""
    outcome = yield
    report = outcome.get_result()
    if not is_runbook_step(item):
        return
    report.step_description = f"{step_label(item).split(' (')[0]}: {step_doc(item)}"
    if report.failed:
        item.config.stash[BLOCKED_BY].setdefault(item.path, step_label(item))
        if call.excinfo is not None:
            text = str(call.excinfo.value).strip()
            report.error_summary = redact(f"{call.excinfo.typename}: {text.splitlines()[0] if text else ''}")
