"""The fault matrix: which test injects which fault, and how the last run went.

Tests carry `@pytest.mark.fault("name")`; tests/conftest.py records each one's outcome in
reports/fault-matrix.json when the run ends, and `python -m testkit.fault_matrix` writes the table
of the last run into docs/RELIABILITY.md between its markers.
"""

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "reports" / "fault-matrix.json"
DOC = ROOT / "docs" / "RELIABILITY.md"
BEGIN, END = "<!-- fault-matrix:begin -->", "<!-- fault-matrix:end -->"


class Recorder:
    """Collects fault-marked outcomes during a run (a test's worst phase wins)."""

    def __init__(self):
        self.rows: dict[str, dict] = {}

    def add(self, fault: str, nodeid: str, outcome: str) -> None:
        row = self.rows.setdefault(nodeid, {"fault": fault, "test": nodeid, "outcome": "passed"})
        if outcome != "passed" and row["outcome"] == "passed":
            row["outcome"] = outcome

    def write(self, path: Path = RESULTS) -> None:
        """Merge into the results file (a run of one module keeps the other rows' last results)."""
        if not self.rows:
            return
        known = {r["test"]: r for r in json.loads(path.read_text())["rows"]} if path.is_file() else {}
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        known.update({nodeid: {**row, "run": stamp} for nodeid, row in self.rows.items()})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"rows": sorted(known.values(), key=lambda r: (r["fault"], r["test"]))}, indent=1))


def table(rows: list[dict]) -> str:
    lines = ["| fault | test | last result | run |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['fault']} | `{r['test']}` | {r['outcome']} | {r['run']} |" for r in rows]
    return "\n".join(lines)


def write_doc(results: Path = RESULTS, doc: Path = DOC) -> None:
    text = doc.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    doc.write_text(text[:start] + "\n" + table(json.loads(results.read_text())["rows"]) + "\n" + text[end:])


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    write_doc(source)
    print(f"wrote the fault matrix of {source} into {DOC}")
