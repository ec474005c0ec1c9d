"""Start a child a test will signal as an operator's shell starts it: SIGINT, SIGHUP and SIGTERM at
their defaults, whatever this suite inherited.

An ignored disposition survives fork and exec. A suite launched with SIGINT and SIGHUP ignored (nohup,
cron, a CI runner, `cmd &` in a script) hands that on: the child's Python installs no SIGINT handler,
and the ops check keeps ignoring SIGHUP as nohup asked, so the signal a test sends does nothing.
`Popen(restore_signals=True)` does not help: it resets only SIGPIPE, SIGXFZ and SIGXFSZ.
"""

import signal
import subprocess

STOP_SIGNALS = (signal.SIGINT, signal.SIGHUP, signal.SIGTERM)


def default_dispositions() -> None:
    """preexec_fn: the stop signals at SIG_DFL in the child, before it execs."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)


def popen(argv: list[str], **kwargs) -> subprocess.Popen:
    """subprocess.Popen of a child a test sends stop signals to; refuses a preexec_fn of the caller's."""
    if "preexec_fn" in kwargs:
        raise TypeError("testkit.signals.popen sets preexec_fn itself")
    return subprocess.Popen(argv, preexec_fn=default_dispositions, **kwargs)
