"""`opsuite sign REPORT --by NAME`'s engine: a complete green run's real report and record, written by a
pytester run of an ops check, signed once; everything else refused with a usage error naming the fix."""

import json
import re
import stat
from pathlib import Path

import pytest

from procedures.errors import UsageError
from runbook_plugin.signoff import sign
from tests.unit.test_summary_header import first_in_body, header_of, run_fake

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_a_complete_green_run_is_signed_in_its_record_and_its_header_once(pytester):
    report, record, _ = run_fake(pytester, False)
    assert record["summary"]["signed_off_by"] is None and "(not signed off" in header_of(report.read_text())
    index = report.parent.parent / "index.html"
    index.unlink()
    signed = sign(report, "  Ann   Smith ")
    after = json.loads(report.with_suffix(".json").read_text())
    assert signed["signed_off_by"] == after["summary"]["signed_off_by"] == "Ann Smith"
    assert signed["signed_off_at"] == after["summary"]["signed_off_at"] and signed["signed_off_at"].endswith("+00:00")
    assert {k: v for k, v in after["summary"].items() if not k.startswith("signed_off")} == \
        {k: v for k, v in record["summary"].items() if not k.startswith("signed_off")}, "nothing else changes"
    page = report.read_text()
    assert first_in_body(page)[1].get("id") == "ops-summary" and page.count("<section id='ops-summary'") == 1
    assert f"Ann Smith at {signed['signed_off_at']}" in header_of(page) and "<script" not in header_of(page)
    assert stat.S_IMODE(report.stat().st_mode) == 0o600 and stat.S_IMODE(report.with_suffix(".json").stat().st_mode) == 0o600
    assert not list(report.parent.glob(".*.partial")) and not list(report.parent.glob("*.partial"))
    assert index.is_file(), "the history page was rewritten (it shows sign-offs)"
    with pytest.raises(UsageError, match=re.escape(f"already signed off by Ann Smith at {signed['signed_off_at']}")):
        sign(report, "Bob")


def test_a_failed_or_incomplete_run_is_never_signed_before_or_after(pytester):
    report, record, _ = run_fake(pytester, True, "--signed-off-by=Ann")
    assert record["summary"]["signed_off_by"] is None and record["summary"]["signed_off_at"] is None
    assert "--signed-off-by=Ann was NOT recorded: only a complete green run" in record["summary"]["actions_required"][-1]
    before = report.read_text()
    with pytest.raises(UsageError, match="is not a complete green run \\(outcome failed, 3 of 4 steps ran\\)"):
        sign(report, "Ann")
    assert report.read_text() == before


def test_what_is_not_a_report_or_not_a_name_is_refused(tmp_path, pytester):
    with pytest.raises(UsageError, match="no such report"):
        sign(tmp_path / "missing.html", "Ann")
    loose = tmp_path / "loose.html"
    loose.write_text("<html><body>hi</body></html>")
    with pytest.raises(UsageError, match="needs its record loose.json beside it"):
        sign(loose, "Ann")
    loose.with_suffix(".json").write_text("{not json")
    with pytest.raises(UsageError, match="not a readable record"):
        sign(loose, "Ann")
    loose.with_suffix(".json").write_text(json.dumps({"outcome": "passed", "summary": {}}))
    with pytest.raises(UsageError, match="record_version"):
        sign(loose, "Ann")
    loose.with_suffix(".json").write_text(json.dumps({"record_version": 2, "outcome": "passed", "complete": True,
                                                      "summary": {"signed_off_by": None}}))
    with pytest.raises(UsageError, match="no summary header"):
        sign(loose, "Ann")
    report, _, _ = run_fake(pytester, False)
    with pytest.raises(UsageError, match="--by needs the name"):
        sign(report, "  ")
    with pytest.raises(UsageError, match="needs its record"):
        sign(report.with_suffix(".json"), "Ann")
