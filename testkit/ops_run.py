"""Run an ops check as an operator does (`pytest ops_checks/CHECK.py ...`) against a disposable stack."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def check_argv(stack, check, *args, report=None):
    """pytest for one ops check; stack None for a check that needs no ops config (discover)."""
    config = [f"--ops-config={stack.config_path}"] if stack is not None else []
    return [sys.executable, "-m", "pytest", f"ops_checks/{check}.py", *config,
            "-p", "no:cacheprovider", f"--html={report}", *args]


def run_check(stack, tmp_path, check, *args, env: dict | None = None):
    """Run the check to completion; returns the finished process and the path of its HTML report."""
    report = tmp_path / f"{check}-{time.monotonic_ns()}.html"
    environ = {k: v for k, v in os.environ.items() if k != "CONFIRM"}
    done = subprocess.run(check_argv(stack, check, *args, report=report), cwd=ROOT, capture_output=True,
                          text=True, timeout=900, env={**environ, **(env or {})})
    return done, report


def passed(done) -> None:
    """The check exited 0; otherwise the failure shows the end of its output."""
    assert done.returncode == 0, done.stdout[-4000:]


def summary_header(report: Path) -> tuple[dict, str]:
    """The record's summary and the report's summary header, which must come first in its <body>."""
    page = report.read_text()
    body = page.index("<body>") + len("<body>")
    assert page.startswith("<section id='ops-summary'", body), "the summary header is not first in <body>"
    header = page[body:page.index("</section>", body) + len("</section>")]
    return json.loads(report.with_suffix(".json").read_text())["summary"], header
