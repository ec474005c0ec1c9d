"""The suite's signal tests pass whatever dispositions it inherits: launched under nohup, cron or a CI
runner that ignores SIGINT and SIGHUP, the children they signal still start with the defaults."""

import ast
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import signals

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]

_IGNORED = "import signal; print(*[signal.getsignal(s) is signal.SIG_IGN for s in (signal.SIGINT, signal.SIGHUP)])"


def _ignore_int_and_hup() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _launched_ignoring(script: str) -> str:
    """What a child prints when its parent was started with SIGINT and SIGHUP ignored, as under nohup
    (no limit of its own: a busy machine is slow, and pytest-timeout catches a hang)."""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          preexec_fn=_ignore_int_and_hup)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_an_ignored_disposition_reaches_a_plain_child_but_not_one_started_by_testkit():
    script = f"""
import subprocess, sys
from testkit import signals
probe = [sys.executable, "-c", {_IGNORED!r}]
print(subprocess.run(probe, capture_output=True, text=True).stdout.strip())
print(subprocess.run(probe, capture_output=True, text=True, restore_signals=True).stdout.strip())
print(signals.popen(probe, stdout=subprocess.PIPE, text=True).communicate()[0].strip())
"""
    plain, restored, testkit = _launched_ignoring(script).splitlines()
    assert plain == restored == "True True", "the premise: exec keeps SIG_IGN, restore_signals does not reset it"
    assert testkit == "False False"


def test_the_signal_tests_pass_when_the_suite_is_launched_ignoring_int_and_hup():
    tests = ["tests/unit/test_stop_signals.py", "tests/unit/test_runner.py::test_an_interrupt_kills_the_running_command_and_its_children"]
    script = ("import subprocess, sys; sys.exit(subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', "
              f"'no:cacheprovider', *{tests!r}]).returncode)")
    printed = _launched_ignoring(script)
    assert " passed" in printed and "failed" not in printed, printed[-3000:]


def popen_calls_without_preexec(source: str) -> list[int]:
    """Lines of subprocess.Popen calls that leave the child's dispositions to what this suite inherited."""
    return [node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
            and ast.unparse(node.func) == "subprocess.Popen" and not any(k.arg == "preexec_fn" for k in node.keywords)]


def test_every_test_that_sends_a_signal_starts_its_child_with_chosen_dispositions():
    """A new signal test that starts its child with a bare subprocess.Popen would pass in a terminal
    and fail under nohup; kill() (SIGKILL, which nothing ignores) needs no default disposition."""
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "tests").rglob("test_*.py"))
                 if ".send_signal(" in (text := path.read_text()) for line in popen_calls_without_preexec(text)]
    assert not offenders, f"start a child you signal with testkit.signals.popen: {offenders}"


def test_the_check_finds_a_bare_popen():
    source = ("import subprocess\nsubprocess.Popen(['sleep', '9'], text=True)\n"
              "subprocess.Popen(['sleep', '9'], preexec_fn=print)\n")
    assert popen_calls_without_preexec(source) == [2]
