"""Plant secrets in a runbook check's logs, output and failure; the HTML evidence shows none."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]

LEAKY_CHECK = '''
import logging
import pytest
from procedures.redact import register_secret

REGISTERED = "registered-db-password-8812"
register_secret(REGISTERED)

@pytest.mark.order(1)
def test_step_one_leaks_everywhere():
    logging.getLogger("ops.leak").warning("connecting with password %s", REGISTERED)
    print("token = {\\"access_token\\":\\"ya29.planted-oauth-token\\"}")
    print("url postgresql://zen:planted-url-password@db/zen")
    assert REGISTERED == "something else", f"login failed for {REGISTERED}"

@pytest.mark.order(2)
def test_step_two_never_runs():
    raise AssertionError("must be blocked")
'''


def test_secrets_never_reach_the_html_report_and_later_steps_are_blocked(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "leaky.py").write_text(LEAKY_CHECK)
    result = pytester.runpytest_subprocess("ops_checks/leaky.py", "-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(failed=1, skipped=1)
    reports = list((pytester.path / "reports" / "leaky").glob("*.html"))
    assert len(reports) == 1, "the run must leave exactly one self-contained HTML report"
    page = reports[0].read_text()
    for planted in ("registered-db-password-8812", "ya29.planted-oauth-token", "planted-url-password"):
        assert planted not in page
        assert planted not in result.stdout.str()
    assert "***" in page
    assert "blocked by step 1 (test_step_one_leaks_everywhere)" in page
    record_text = reports[0].with_suffix(".json").read_text()
    record = json.loads(record_text)
    assert "registered-db-password-8812" not in record_text
    assert [s["outcome"] for s in record["steps"]] == ["failed", "skipped"]
    assert record["steps"][1]["blocked_by"] == "blocked by step 1 (test_step_one_leaks_everywhere)"
    assert record["outcome"] == "failed"
    assert "<link" not in page or "stylesheet" not in page.split("<link", 1)[1][:200], \
        "report must be self-contained (no external stylesheet)"
