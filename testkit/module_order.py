"""The order test modules are handed to xdist's workers: the longest first, from the seconds a whole run
recorded per module (tests/module_seconds.json).

Workers take whole modules (--dist=loadfile) in the collection's order. xdist's own reordering (by number of
tests) queues one-test modules of minutes (the bench's 4 minutes) last, where one worker can be left running
one alone after the others have finished. Longest first leaves the short modules to fill the end. A module
the record does not name yet goes first: its cost is unknown, and late is where an unknown cost hurts.

Refresh the record from a run's JUnit XML (scripts/test.sh writes reports/junit.xml):
    .venv/bin/python -m testkit.module_order reports/junit.xml > tests/module_seconds.json
"""

import json
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests" / "module_seconds.json"


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def load(path: Path = RECORD) -> dict[str, float]:
    return json.loads(path.read_text()) if path.exists() else {}


def ordered(nodeids: list[str], seconds: dict[str, float]) -> list[int]:
    """Indexes of nodeids, modules longest first (unrecorded ones before all), each module's own tests in the
    order they came (pytest-order's order within a module stays)."""
    first_seen = {}
    for i, nodeid in enumerate(nodeids):
        first_seen.setdefault(module_of(nodeid), i)

    def key(i: int):
        module = module_of(nodeids[i])
        recorded = seconds.get(module)
        return (recorded is not None, -(recorded or 0.0), first_seen[module], i)

    return sorted(range(len(nodeids)), key=key)


def seconds_per_module(junit_xml: str) -> dict[str, float]:
    """Each module's total seconds (setup, call and teardown of its tests) from a JUnit XML report."""
    totals: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        classname = case.get("classname", "")
        parts = classname.split(".")
        # classname is the module's dotted path, then the class if the test is in one
        while parts and not (ROOT / Path(*parts)).with_suffix(".py").exists():
            parts.pop()
        if parts:
            totals[str(Path(*parts).with_suffix(".py"))] += float(case.get("time", 0))
    return {module: round(total, 1) for module, total in sorted(totals.items(), key=lambda kv: -kv[1])}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m testkit.module_order JUNIT_XML > tests/module_seconds.json")
    print(json.dumps(seconds_per_module(sys.argv[1]), indent=1))
