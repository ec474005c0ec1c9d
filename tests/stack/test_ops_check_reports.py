"""An ops check run as an operator runs it leaves self-contained, redacted HTML evidence, and the
history (reports/index.html) lists it."""

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from runbook_plugin import history
from runbook_plugin.signoff import sign
from testkit.ops_run import summary_header

pytestmark = pytest.mark.stack
ROOT = Path(__file__).resolve().parents[2]


def test_stack_health_check_leaves_a_redacted_report(running_stack):
    reports = ROOT / "reports" / "stack_health"
    before = set(reports.glob("*.html")) if reports.exists() else set()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "ops_checks/stack_health.py",
         f"--ops-config={running_stack.config_path}", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "SUDO_USER": "ann-auditor"},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "8 passed" in done.stdout
    new = _new_reports_of(reports, before, running_stack.project)
    assert len(new) == 1, f"expected one new report, got {new}"
    report = new.pop()
    page = report.read_text()
    try:
        assert running_stack.password not in page
        assert running_stack.project in page            # environment table: target stack
        assert "1.0.0" in page                          # the serving TAG, found without --tag
        assert "Docker Compose" in page and "Docker engine" in page
        assert "test_readyz_is_green_through_proxy" in page
        summary, top = summary_header(report)  # a check that contributes no facts still opens with one
        record = json.loads(report.with_suffix(".json").read_text())
        assert (record["record_version"], record["project"], record["report"]) == (2, running_stack.project, str(report))
        assert summary["outcome_text"] == "stack_health check succeeded" and summary["backup_set"] is None
        assert "stack_health check succeeded" in top and running_stack.project in top and "None" in top
        assert_history_lists(ROOT / "reports", report, running_stack.project)
        assert record["operator"] == "ann-auditor", "the person behind sudo, not root"
        # every step in a plain table, readable without JavaScript, and a link to the history that resolves
        assert top.count("<tr data-step-outcome='passed'>") == 8
        [href] = re.findall(r"<a href='([^']+)'>", top)
        assert (report.parent / href).resolve() == (ROOT / "reports" / "index.html").resolve()
        signed = sign(report, "Ann Auditor")
        summary, top = summary_header(report)
        assert summary["signed_off_by"] == "Ann Auditor" and f"Ann Auditor at {signed['signed_off_at']}" in top
    finally:
        for html_report in _new_reports_of(reports, before, running_stack.project):
            html_report.unlink()
            html_report.with_suffix(".json").unlink(missing_ok=True)
        history.rewrite_index(ROOT / "reports")  # without the runs just removed


def _new_reports_of(reports: Path, before: set, project: str) -> list[Path]:
    """The reports written since `before` by runs on PROJECT: other stacks' checks (the demo, another worker)
    may write into the same reports/ meanwhile, and are neither counted nor removed."""
    def project_of(report: Path):
        try:
            return json.loads(report.with_suffix(".json").read_text()).get("project")
        except (OSError, ValueError):
            return None
    return [report for report in set(reports.glob("*.html")) - before if project_of(report) == project]


def test_opsuite_health_runs_the_same_check_on_the_same_stack(running_stack):
    """`opsuite health` is `pytest ops_checks/stack_health.py`: exit 0, the same steps, a report and its record."""
    reports = ROOT / "reports" / "stack_health"
    before = set(reports.glob("*.html")) if reports.exists() else set()
    done = subprocess.run([sys.executable, "-m", "opsuite", "health", f"--ops-config={running_stack.config_path}",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    try:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        assert "8 passed" in done.stdout and "test session starts" not in done.stdout  # quiet: -q
        [report] = _new_reports_of(reports, before, running_stack.project)
        record = json.loads(report.with_suffix(".json").read_text())
        assert (record["check"], record["outcome"], record["project"]) == ("stack_health", "passed", running_stack.project)
        assert record["steps_run"] == record["steps_defined"] == 8
    finally:
        for html_report in _new_reports_of(reports, before, running_stack.project):
            html_report.unlink()
            html_report.with_suffix(".json").unlink(missing_ok=True)
        history.rewrite_index(ROOT / "reports")


def assert_history_lists(reports: Path, report: Path, project: str) -> None:
    """reports/index.html has a row for this run: check, project, outcome, a relative link to the report."""
    __tracebackhide__ = True
    index = (reports / "index.html").read_text()
    link = report.relative_to(reports).as_posix()
    rows = [row for row in re.findall(r'<tr class="run">(.*?)</tr>', index, re.S) if f'href="{link}"' in row]
    skipped = [html.unescape(re.sub(r"<[^>]+>", "", li)) for li in re.findall(r"<li>(.*?)</li>", index)]
    assert len(rows) == 1, f"reports/index.html has no row linking {link}; skipped records: {skipped}"
    cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)]
    assert cells[1:4] == ["stack_health", project, "passed"], cells
    # the check's own stack heads the page with its status strip (record.py hands history its config)
    assert f'<section class="status" data-project="{project}">' in index
    assert index.index('<section class="status"') < index.index('<table class="runs">')
    [href] = re.findall(r'href="([^"]+)"', rows[0])
    assert not href.startswith(("/", "file:")) and (reports / unquote(href)).resolve() == report.resolve()
