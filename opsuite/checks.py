"""Which ops check each subcommand runs, and running it through pytest as `pytest ops_checks/NAME.py`
runs it: the checkout's pytest.ini and conftest.py, so the same steps, report and record."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from procedures.errors import UsageError

from . import where

# subcommand -> ops_checks/<module>.py, with the line its --help opens with
COMMANDS = {
    "deploy": ("deploy", "deploy a release: --tag=VERSION (backup, rollback check, migrate, switch, smoke)"),
    "backup": ("backup", "verified backup, offsite copy, retention"),
    "drill": ("restore_drill", "restore the newest verified backup into a throwaway server and compare "
                               "(--from-remote: from the offsite copy)"),
    "rollback": ("rollback", "roll the app back to the previous release in the ledger (or --tag)"),
    "adopt": ("adopt", "take over a plainly running stack: backup first, data in place (CONFIRM=YES)"),
    "discover": ("discover", "what is this stack? propose an ops config (--compose-file=/srv/app; read-only)"),
    "health": ("stack_health", "is the stack whole and serving?"),
    "freshness": ("freshness", "recent verified backup, offsite copy and drill; no deploy left failed"),
    "install": ("install", "first install of the stack at --tag (creates the database volume)"),
}

OK, STEP_FAILED, USAGE, INTERNAL = 0, 1, 2, 3
# pytest's exit codes -> opsuite's: a refusal before the first step (pytest's usage error, 4) and a
# selection that left nothing to run (5) are the operator's to fix; an interrupted run (2) did not pass.
_FROM_PYTEST = {0: OK, 1: STEP_FAILED, 2: STEP_FAILED, 3: INTERNAL, 4: USAGE, 5: USAGE}
REPORT_A_BUG = ("This is a bug in opsuite, not a problem of your stack: please report it on the project's "
                "issue tracker (README.md, \"Reporting a problem\") with the command, this output and the report.")


def exit_code(pytest_code: int) -> int:
    """opsuite's exit code for pytest's: 0 ok, 1 a step failed, 2 usage or config, 3 internal."""
    return _FROM_PYTEST.get(pytest_code, INTERNAL)


def pytest_argv(module: str, args: list[str]) -> list[str]:
    """`pytest ops_checks/MODULE.py ARGS` with the checkout's pytest.ini (and so its rootdir, conftest.py
    and reports/) from wherever opsuite runs; quiet dots, short tracebacks (the message first)."""
    root = where.checkout()
    return [sys.executable, "-m", "pytest", "-c", str(root / "pytest.ini"), "--rootdir", str(root),
            str(root / "ops_checks" / f"{module}.py"), "-q", "--tb=short", *args]


def run(module: str, args: list[str]) -> int:
    """Run the ops check in a pytest of its own; opsuite's exit code, and a word on codes 3 and 5."""
    if not (where.OPS_CHECKS / f"{module}.py").is_file():
        raise_unknown(module)
    # The checkout's own code first, whatever else the venv has on its path (another checkout installed -e).
    path = os.pathsep.join(filter(None, [str(where.ROOT), os.environ.get("PYTHONPATH")]))
    code = _wait_for(subprocess.Popen(pytest_argv(module, args), env={**os.environ, "PYTHONPATH": path}))
    if code == 5:
        print(f"opsuite: no step of {module} was selected (pytest exit 5): drop -k/--deselect", file=sys.stderr)
    elif exit_code(code) == INTERNAL:
        print(f"opsuite: {module} stopped on an internal error (pytest exit {code}). {REPORT_A_BUG}",
              file=sys.stderr)
    return exit_code(code)


def _wait_for(child: subprocess.Popen) -> int:
    """The check's exit code. Ctrl-C reaches the check from the terminal and it unwinds (records, rolls
    back, unlocks): opsuite ignores it meanwhile, and never kills the check (subprocess.run would, 0.25 s
    after Ctrl-C)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def raise_unknown(module: str) -> None:
    raise UsageError(f"no ops check named {module!r}: use one of {', '.join(where.check_names())} "
                     f"(a file in {where.OPS_CHECKS} without .py)")


def relative_to_here(args: list[str]) -> list[str]:
    """--ops-config as given on opsuite's command line is relative to where opsuite runs (pytest would read
    it relative to the checkout): made absolute before pytest sees it."""
    out, it = [], iter(args)
    for arg in it:
        if arg == "--ops-config":
            out += [arg] + [str(Path(value).expanduser().resolve()) for value in [next(it, None)] if value]
        elif arg.startswith("--ops-config="):
            out.append("--ops-config=" + str(Path(arg.split("=", 1)[1]).expanduser().resolve()))
        else:
            out.append(arg)
    return out
