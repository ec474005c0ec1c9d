"""Plant secrets in a runbook check's logs, output, failure, record fields and ledger: the terminal,
the HTML evidence, the JSON record, the release ledger and the audit log show none of them, and
every file written is 0600 in a 0700 directory."""

import json
import os
import stat
from pathlib import Path

import pytest

from tests.unit.test_redact import PLANTED_SHAPES

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]

LEAKY_CHECK = '''
import logging
import pytest
from procedures import ledger
from procedures.redact import register_secret

REGISTERED = "registered-db-password-8812"
register_secret(REGISTERED)
SHAPES = __SHAPES__
STATE_DIR = __STATE_DIR__

@pytest.mark.order(1)
def test_step_one_leaks_everywhere(runbook_record):
    logging.getLogger("ops.leak").warning("connecting with password %s", REGISTERED)
    print("token = {\\"access_token\\":\\"ya29.planted-oauth-token\\"}")
    print("url postgresql://zen:planted-url-password@db/zen")
    tail = "\\n".join(SHAPES)
    logging.getLogger("ops.leak").error("container log tail:\\n%s", tail)
    print(tail)
    runbook_record.update({"log_tail": tail, "shapes": SHAPES, "env": {"SMTP_PASS": "smtp-planted-9931"}})
    ledger.append_release(STATE_DIR, "zen", {"action": "deploy", "tag": "1.0.0", "outcome": "failed", "error": tail})
    ledger.audit(STATE_DIR, "zen", "deploy 1.0.0 failed: " + tail)
    assert REGISTERED == "something else", f"login failed for {REGISTERED}: {tail}"

@pytest.mark.order(2)
def test_step_two_never_runs():
    raise AssertionError("must be blocked")
'''
PLANTED = ["registered-db-password-8812", "ya29.planted-oauth-token", "planted-url-password",
           *(fragment for _, _, leaked in PLANTED_SHAPES for fragment in leaked)]


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.fixture
def world_readable_umask():
    """The umask most hosts run with: the suite's modes must not depend on it."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_secrets_never_reach_any_output_and_every_file_is_private(pytester, world_readable_umask):
    state_dir = pytester.path / "state"
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    check = (LEAKY_CHECK.replace("__SHAPES__", repr([text for _, text, _ in PLANTED_SHAPES]))
             .replace("__STATE_DIR__", repr(str(state_dir))))
    (pytester.path / "ops_checks" / "leaky.py").write_text(check)
    result = pytester.runpytest_subprocess("ops_checks/leaky.py", "-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(failed=1, skipped=1)
    reports = list((pytester.path / "reports" / "leaky").glob("*.html"))
    assert len(reports) == 1, "the run must leave exactly one self-contained HTML report"
    page, record_path = reports[0].read_text(), reports[0].with_suffix(".json")
    record_text = record_path.read_text()
    ledger_file, audit_file = state_dir / "zen" / "releases.jsonl", state_dir / "zen" / "audit.log"
    outputs = {"terminal": result.stdout.str() + result.stderr.str(), "HTML report": page,
               "JSON record": record_text, "ledger": ledger_file.read_text(), "audit log": audit_file.read_text()}
    leaks = [(where, planted) for where, text in outputs.items() for planted in PLANTED if planted in text]
    assert leaks == []
    for where, text in outputs.items():
        assert "***" in text, f"{where} shows no masked secret: was anything planted there?"
    assert {path.name: mode(path) for path in (pytester.path / "reports", reports[0].parent, state_dir,
                                               state_dir / "zen")} == dict.fromkeys(
        ["reports", "leaky", "state", "zen"], "0o700")
    assert {path.name: mode(path) for path in (reports[0], record_path, ledger_file, audit_file)} == {
        reports[0].name: "0o600", record_path.name: "0o600", "releases.jsonl": "0o600", "audit.log": "0o600"}
    assert "blocked by step 1 (test_step_one_leaks_everywhere)" in page
    record = json.loads(record_text)
    assert [s["outcome"] for s in record["steps"]] == ["failed", "skipped"]
    assert record["steps"][1]["blocked_by"] == "blocked by step 1 (test_step_one_leaks_everywhere)"
    assert record["outcome"] == "failed"
    assert record["env"] == {"SMTP_PASS": "***"}
    assert json.loads(ledger_file.read_text())["outcome"] == "failed"
    assert len(audit_file.read_text().splitlines()) == 1, "one audit line per action"
    assert "<link" not in page or "stylesheet" not in page.split("<link", 1)[1][:200], \
        "report must be self-contained (no external stylesheet)"


def test_existing_report_directories_are_tightened(pytester, world_readable_umask):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "quiet.py").write_text("def test_step():\n    pass\n")
    (pytester.path / "reports" / "quiet").mkdir(parents=True, mode=0o755)
    result = pytester.runpytest_subprocess("ops_checks/quiet.py", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    [report] = (pytester.path / "reports" / "quiet").glob("*.html")
    assert [mode(p) for p in (pytester.path / "reports", report.parent, report, report.with_suffix(".json"))] \
        == ["0o700", "0o700", "0o600", "0o600"]


def test_a_report_named_by_the_operator_is_private_and_its_existing_directory_is_left_alone(
        pytester, world_readable_umask):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "quiet.py").write_text("def test_step():\n    pass\n")
    (pytester.path / "shared").mkdir(mode=0o755)
    result = pytester.runpytest_subprocess("ops_checks/quiet.py", "-p", "no:cacheprovider", "--html=shared/run.html")
    result.assert_outcomes(passed=1)
    report = pytester.path / "shared" / "run.html"
    assert [mode(p) for p in (report.parent, report, report.with_suffix(".json"))] == ["0o755", "0o600", "0o600"]
