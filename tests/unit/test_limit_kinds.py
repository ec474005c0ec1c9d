"""Every command names its kind of time limit, and each kind is a [timeouts] setting (no guessing
from argv in the runner)."""

import ast
import dataclasses
from pathlib import Path

import pytest

from procedures import runner
from procedures.config import TimeoutsConfig
from procedures.errors import CommandFailed

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("procedures", "ops_checks", "runbook_plugin", "testkit", "tests", "bench", "example")
# The calls that end in runner.run: the runner itself and the wrappers that pass **kwargs on to it.
RUNNING = {"run", "run_once", "exec", "run_script"}
# Receivers whose .run is not ours: the standard library's, pytest's, the Docker SDK's, argv builders.
FOREIGN = {"subprocess", "asyncio", "pytester", "testdir", "self.pytester", "cmd", "compose_cmd"}


def _calls_without_kind(path: Path) -> list[str]:
    missing = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        passes_kwargs = any(k.arg is None for k in node.keywords)
        names_kind = any(k.arg == "limit" for k in node.keywords)
        if isinstance(func, ast.Attribute) and func.attr in RUNNING:
            receiver = ast.unparse(func.value)
            if receiver in FOREIGN or receiver.endswith(("containers", "_bench")):
                continue
        elif node.args and ast.unparse(node.args[0]) == "runner.run":  # cleanup.callback(runner.run, argv, ...)
            pass
        else:
            continue
        if not (names_kind or passes_kwargs):
            missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:100]}")
    return missing


def _kinds_named(path: Path) -> list[tuple[str, str]]:
    return [(f"{path.relative_to(ROOT)}:{node.lineno}", k.value.value)
            for node in ast.walk(ast.parse(path.read_text(), str(path))) if isinstance(node, ast.Call)
            for k in node.keywords if k.arg == "limit" and isinstance(k.value, ast.Constant)
            and isinstance(k.value.value, str)]


def _sources():
    return [p for folder in SCANNED for p in sorted((ROOT / folder).rglob("*.py")) if ".venv" not in p.parts]


def test_every_command_names_its_kind_of_limit():
    missing = [line for path in _sources() for line in _calls_without_kind(path)]
    assert not missing, "calls that run a command without limit=<kind>:\n" + "\n".join(missing)


def test_every_named_kind_is_a_timeouts_setting():
    unknown = [(where, kind) for path in _sources() for where, kind in _kinds_named(path) if kind not in runner.KINDS]
    assert not unknown


def test_each_kind_is_a_timeouts_setting_in_seconds():
    fields = {f.name for f in dataclasses.fields(TimeoutsConfig)}
    assert set(runner.KINDS.values()) <= fields
    assert {"dump", "restore", "copy", "check", "command", "compose_up", "one_off", "build"} == set(runner.KINDS)


def test_the_kind_decides_the_limit_not_the_program():
    runner.use_timeouts(TimeoutsConfig(command_seconds=30, dump_seconds=40, check_seconds=50))
    try:
        # sha256sum and SQLite's backup are not in any list of program names: their caller names them.
        assert runner.limit_of("check") == runner.Limit(50, "check_seconds")
        assert runner.limit_of("dump") == runner.Limit(40, "dump_seconds")
        assert runner.limit_of("command") == runner.Limit(30, "command_seconds")
    finally:
        runner.use_timeouts(TimeoutsConfig())
    assert not hasattr(runner, "limit_for")


def test_a_missing_or_unknown_kind_is_refused():
    with pytest.raises(TypeError):
        getattr(runner, "run")(["true"])  # the missing argument is the point (and hidden from the scan)
    with pytest.raises(ValueError, match="unknown limit kind 'slow'"):
        runner.run(["true"], limit=str("slow"))


def test_a_command_over_its_kinds_limit_is_stopped_naming_the_setting():
    runner.use_timeouts(TimeoutsConfig(check_seconds=0.5))
    try:
        with pytest.raises(CommandFailed, match=r"timed out after 0\.5s .*raise \[timeouts\] check_seconds"):
            runner.run(["sleep", "5"], limit="check")
        assert runner.run(["sleep", "0.1"], limit="command").returncode == 0  # other kinds keep their own
    finally:
        runner.use_timeouts(TimeoutsConfig())
