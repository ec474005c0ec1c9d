"""The reported case end to end (issue 24 item 5): database password `wger`, project `app2wger`. A drill
run leaves a record and report whose project and set names are whole, and the real freshness check
finds that drill; the password itself is still masked wherever it stands as a word."""

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PROJECT, PASSWORD = "app2wger", "wger"
SET = f"{PROJECT}.prod_{PASSWORD}_20261205T020000Z"

DRILL = '''
import pytest
from procedures.redact import register_secret
from procedures.runbook import Runbook, Step
from runbook_plugin.steps import runbook_step

register_secret(__PASSWORD__)  # as compose.py does when it reads the stack's env file
DRILL = Runbook("restore", (Step("restore", lambda run: print("restored " + __SET__ + " as wger, password wger")),
                            Step("row_counts", lambda run: "match")))


def reader(run):
    return {"what": "Restore drill", "backup_set": {"name": __SET__, "size_bytes": 10, "dump_bytes": 10,
            "sha256": "ab" * 32, "offsite": False, "encrypted": False, "offsite_bytes": None},
            "drill": {"rto_seconds": 1.0, "rpo_seconds": 60.0, "row_counts": "match"}}


@pytest.fixture(scope="module")
def run(ops, runbook_record, runbook_summary):
    runbook_record.update({"backup_set": __SET__, "backup_file": __SET__ + ".dump",
                           "volume": "opsuite-drill-" + __PASSWORD__, "database": "wger"})
    runbook_summary.read(reader, None)
    yield None


@runbook_step(DRILL, "restore")
def test_restore(run, step, extras):
    step(run)


@runbook_step(DRILL, "row_counts")
def test_row_counts(run, step):
    step(run)
'''


@pytest.mark.fault("a short database password (wger) inside the project name (app2wger)")
def test_a_short_password_inside_the_project_name_leaves_identities_whole_and_freshness_finds_the_drill(
        pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makeini((ROOT / "pytest.ini").read_text())
    pytester.mkpydir("ops_checks")
    for name in ("freshness", "evidence"):
        (pytester.path / "ops_checks" / f"{name}.py").write_text((ROOT / "ops_checks" / f"{name}.py").read_text())
    (pytester.path / "ops_checks" / "restore_drill.py").write_text(
        DRILL.replace("__PASSWORD__", repr(PASSWORD)).replace("__SET__", repr(SET)))
    (pytester.path / "a.yml").write_text("services: {}\n")
    (pytester.path / "ops.toml").write_text(
        f'[stack]\nproject = "{PROJECT}"\ncompose_files = ["a.yml"]\nlock_dir = "{pytester.path}/locks"\n'
        f'[offsite]\nenabled = false\n[deploy]\nstate_dir = "{pytester.path}/state"\n')

    drill = pytester.runpytest_subprocess("ops_checks/restore_drill.py", "-p", "no:cacheprovider", "-rA")
    drill.assert_outcomes(passed=2)
    [report] = (pytester.path / "reports" / "restore_drill").glob("*.html")
    record = json.loads(report.with_suffix(".json").read_text())
    assert (record["project"], record["backup_set"], record["backup_file"]) == (PROJECT, SET, SET + ".dump")
    assert record["summary"]["backup_set"]["name"] == SET and record["outcome"] == "passed"
    assert record["database"] == "***", "the password as a whole word is still masked"
    page = report.read_text()
    assert f"{PROJECT} (prod)" in page and SET in page and "app2***" not in page and "***.prod" not in page
    assert "as ***, password ***" in page and " wger" not in page

    freshness = pytester.runpytest_subprocess("ops_checks/freshness.py", "-p", "no:cacheprovider",
                                              "-k", "restore_drill or last_deploy")
    freshness.assert_outcomes(passed=2, deselected=2)
    [checked] = (pytester.path / "reports" / "freshness").glob("*.json")
    found = json.loads(checked.read_text())
    assert found["project"] == PROJECT
    assert "restored " not in json.dumps(found) and report.with_suffix(".json").name in checked.with_suffix(".html").read_text()
