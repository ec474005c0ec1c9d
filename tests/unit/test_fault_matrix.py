"""The fault matrix record: outcomes merge by test, and the doc's table is rewritten between markers."""

import json

import pytest

from testkit.fault_matrix import BEGIN, END, Recorder, write_doc

pytestmark = pytest.mark.unit


def test_a_failed_phase_wins_and_earlier_rows_are_kept(tmp_path):
    results = tmp_path / "fault-matrix.json"
    results.write_text(json.dumps({"rows": [{"fault": "dump killed", "test": "t::old", "outcome": "passed",
                                             "run": "earlier"}]}))
    recorder = Recorder()
    recorder.add("clock ahead", "t::clock", "passed")
    recorder.add("clock ahead", "t::clock", "failed")  # the call failed after a passing setup
    recorder.add("clock ahead", "t::clock", "passed")  # teardown passing does not hide it
    recorder.write(results)
    rows = {r["test"]: r for r in json.loads(results.read_text())["rows"]}
    assert rows["t::clock"]["outcome"] == "failed" and rows["t::old"]["run"] == "earlier"


def test_the_doc_table_is_replaced_between_its_markers(tmp_path):
    results, doc = tmp_path / "r.json", tmp_path / "RELIABILITY.md"
    results.write_text(json.dumps({"rows": [{"fault": "TAG latest", "test": "t::x", "outcome": "passed",
                                             "run": "2026-11-27 18:00 UTC"}]}))
    doc.write_text(f"intro\n{BEGIN}\nold table\n{END}\nafter\n")
    write_doc(results, doc)
    text = doc.read_text()
    assert "old table" not in text and "| TAG latest | `t::x` | passed | 2026-11-27 18:00 UTC |" in text
    assert text.startswith("intro\n") and text.endswith(f"{END}\nafter\n")
