"""SIGHUP (an SSH session dropping) and SIGTERM unwind an ops check like Ctrl-C, so the lock is released."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from procedures import lock
from runbook_plugin.options import unwind_on_stop_signals

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]

_HOLD_UNTIL_SIGNALLED = """
import signal, sys, time
from runbook_plugin.options import unwind_on_stop_signals
from procedures import lock
signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as in an SSH session, even when this suite runs under nohup
unwind_on_stop_signals()
with lock.hold(sys.argv[1], "zen", "deploy"):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_hangup_or_term_unwinds_and_leaves_no_lock(tmp_path, signum):
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_UNTIL_SIGNALLED, str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "held\n", proc.stderr.read()
    assert lock.lock_path(str(tmp_path), "zen").exists()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and f"signal {int(signum)}" in err
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
