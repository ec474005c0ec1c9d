"""SIGHUP (an SSH session dropping) and SIGTERM unwind an ops check like Ctrl-C, so the lock is released."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from procedures import lock
from runbook_plugin.options import unwind_on_stop_signals
from testkit import signals

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]

_HOLD_UNTIL_SIGNALLED = """
import signal, sys, time
from runbook_plugin.options import unwind_on_stop_signals
from procedures import lock
unwind_on_stop_signals()
with lock.hold(sys.argv[1], "zen", "deploy"):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT], ids=["SIGHUP", "SIGTERM", "SIGINT"])
def test_hangup_term_or_ctrl_c_unwinds_and_leaves_no_lock(tmp_path, signum):
    proc = signals.popen([sys.executable, "-c", _HOLD_UNTIL_SIGNALLED, str(tmp_path)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "held\n", proc.stderr.read()
    assert lock.lock_path(str(tmp_path), "zen").exists()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    # Ctrl-C is Python's own KeyboardInterrupt; the others name their signal
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err
    assert signum == signal.SIGINT or f"signal {int(signum)}" in err, err
    assert not lock.lock_path(str(tmp_path), "zen").exists(), "the lock must be released"


def _ignore_int_and_hup() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def test_a_run_started_with_int_and_hup_ignored_keeps_them_ignored_and_unwinds_on_term(tmp_path):
    """nohup, cron and `check &` in a script start a run with SIGHUP (and SIGINT) ignored on purpose:
    the run keeps that; SIGTERM (systemd, kill) still unwinds it and releases the lock."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_UNTIL_SIGNALLED, str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ignore_int_and_hup)
    assert proc.stdout.readline() == "held\n", proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGHUP)
    proc.send_signal(signal.SIGTERM)  # a handled INT or HUP would have been raised first: lower numbers run first
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "KeyboardInterrupt: signal 15" in err, err
    assert not lock.lock_path(str(tmp_path), "zen").exists(), "the lock must be released"


def test_a_run_started_under_nohup_keeps_ignoring_hangups():
    before = signal.getsignal(signal.SIGHUP), signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        unwind_on_stop_signals()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN)
    finally:
        signal.signal(signal.SIGHUP, before[0])
        signal.signal(signal.SIGTERM, before[1])
