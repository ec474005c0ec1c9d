"""Runbook steps as tests: ordered and moded from the runbook definitions, numbered, planned, blocked.

A check module marks each test with `@runbook_step(RUNBOOK, "name")`: its order, --mode and
always-run come from the one definition in procedures/, and the `step` fixture runs that step's
action. A failed step blocks every later step of its module ("blocked by step N"), and so does a step
this session does not run (-k, --deselect, --lf): a step never runs on the word of steps that did
not run (a deploy's record step after a deselected smoke check); always-run steps run and are told.
Steps are numbered by their place in the runbook, whatever was selected. Each module's steps are kept
in one Execution (procedures/execution.py), as `Runbook.run_all` keeps them: the same blocking and skips.
"""

import pytest

from procedures.errors import ConfigError
from procedures.execution import Execution, blocked_reason, step_label
from procedures.redact import redact
from procedures.runbook import Runbook

from .options import ops_config
from .state import BLOCKED, DEFINED_STEPS, EXECUTIONS, STEP_NUMBER, is_runbook_step


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
    definition, item = marker.args[1], request.node

    def run_step(run, *args):
        execution = execution_of(item)
        reason = execution.reason_not_to_run(item.stash.get(STEP_NUMBER, 0), item_label(item), definition, run)
        if reason:
            pytest.skip(reason)
        with execution.timed(item_label(item)):
            return definition.action(run, *args)

    return run_step


def execution_of(item) -> Execution:
    """The execution of the runbook in this item's module (one per module, for the session)."""
    return item.config.stash[EXECUTIONS].setdefault(str(item.path), Execution())


def blocker(item) -> str | None:
    """The earlier step of this item's module that failed, or that this session does not run."""
    return execution_of(item).blocker(item.stash.get(STEP_NUMBER, 0))


@pytest.fixture
def failed_step(request) -> str | None:
    """The runbook step that failed earlier in this module, or an earlier one this session does not
    run, if any (for always_run steps)."""
    return blocker(request.node)


def pytest_configure(config):
    config.stash[EXECUTIONS] = {}
    config.addinivalue_line("markers", "always_run: a runbook step that runs even after a failed step")
    config.addinivalue_line("markers", "mode(*modes): a runbook step that runs only in these --mode values")
    config.addinivalue_line("markers", "runbook_step(runbook, step): the runbook step this test runs")


def step_doc(item) -> str:
    """The step's whole label (its docstring, however many lines it was wrapped over, as one line)."""
    doc = item.function.__doc__ or item.name.removeprefix("test_").replace("_", " ")
    return " ".join(doc.split())


def step_name(item) -> str:
    marker = item.get_closest_marker("runbook_step")
    return marker.args[1].name if marker else item.name


def item_label(item) -> str:
    return step_label(item.stash.get(STEP_NUMBER, "?"), item.name)


@pytest.hookimpl(wrapper=True)
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
    config.stash[_PLAN_USES_CONFIG] = any("ops" in getattr(item, "fixturenames", ()) for item in items)
    check_plan_inputs(config)
    writer = config.get_terminal_writer()
    current = None
    for item in items:
        if item.path != current:
            current = item.path
            writer.line(f"\n{item.module.__doc__.strip().splitlines()[0] if item.module.__doc__ else item.path.name}")
        writer.line(f"  {item_label(item).split(' (')[0]}. {step_doc(item)}")
    items[:] = []


_PLAN_USES_CONFIG = pytest.StashKey[bool]()


def check_plan_inputs(config) -> None:
    """--plan loads and checks the config and --tag as a run would, when a step uses them: a plan printed for
    a config that would not load promises steps that would never run."""
    if config.stash.get(_PLAN_USES_CONFIG, False):
        try:
            ops_config(config)
        except ConfigError as e:
            raise pytest.UsageError(str(e)) from None


def pytest_collection_finish(session):
    if session.config.getoption("plan"):
        check_plan_inputs(session.config)  # again: pytest calls this hook even when collection raised
        pytest.exit("plan printed; nothing was run", returncode=0)
    executions = session.config.stash[EXECUTIONS]
    for path, (number, label) in first_not_selected(session.items, session.config.stash.get(DEFINED_STEPS, {})).items():
        executions.setdefault(path, Execution()).leaves_out(number, label)


def first_not_selected(items, defined: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
    """Module path -> (number, label) of the first step it defines that is not among the items to run."""
    chosen = {(str(i.path), step_name(i)) for i in items}
    gaps = {}
    for path, names in defined.items():
        missing = [(n, name) for n, name in enumerate(names, start=1) if (path, name) not in chosen]
        if missing and any(p == path for p, _ in chosen):
            number, name = missing[0]
            gaps[path] = (number, f"{step_label(number, name)}, not run in this session (-k, --deselect or --lf)")
    return gaps


def pytest_runtest_setup(item):
    """A failed runbook step blocks every later step of its module."""
    if not is_runbook_step(item):
        return
    always_run = item.get_closest_marker("always_run") is not None
    blocked_by = execution_of(item).blocked_by(item.stash.get(STEP_NUMBER, 0), item_label(item), always_run)
    if blocked_by:
        item.stash[BLOCKED] = blocked_by  # completeness: a blocked step is a step not run
        pytest.skip(blocked_reason(blocked_by))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Name the step in its report row; a failure blocks the module's later steps and is summarised."""
    outcome = yield
    report = outcome.get_result()
    if not is_runbook_step(item):
        return
    report.step_description = f"{item_label(item).split(' (')[0]}: {step_doc(item)}"
    if report.failed:
        summary = execution_of(item).failed(item_label(item), call.excinfo.value if call.excinfo else None)
        if summary is not None:
            report.error_summary = redact(summary)
    elif report.passed and report.when == "call":
        execution_of(item).passed(item_label(item))
