"""The benchmark harness at a tiny scale, so `python -m bench` keeps working (BENCHMARKS.md)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack
ROOT = Path(__file__).resolve().parents[2]


def test_tiny_run_writes_every_section_and_the_table(tmp_path):
    argv = [sys.executable, "-m", "bench", "--scale", "1", "--megabytes", "5", "--reps", "1", "--jobs", "1,2",
            "--out", str(tmp_path)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=840)
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    assert list(results["datasets"]) == ["pgbench", "realistic"], "both datasets, in one run"
    for measured in results["datasets"].values():
        backup, restore = measured["backup"], measured["restore"]
        assert backup["raw_pg_dump_seconds"]["median"] > 0 and backup["full_backup_seconds"]["median"] > 0
        assert backup["ratio"] > 0 and backup["dump_bytes"] > 0
        assert restore["raw_pg_restore_seconds"]["median"] > 0 and restore["drill_seconds"]["median"] > 0
        assert set(restore["raw_by_jobs"]) == {"1", "2"} and restore["ratio"] > 0
        rehearsal = measured["rehearsal"]
        assert rehearsal["raw_restore_seconds"]["median"] > 0 and rehearsal["raw_migrate_seconds"]["median"] > 0
        assert rehearsal["rehearsal_seconds"]["median"] > 0 and rehearsal["ratio"] > 0
        assert [set(step) for step in rehearsal["step_seconds"]] == [{"restore", "migrate", "previous release", "total"}]
    realistic = results["datasets"]["realistic"]["data"]
    assert realistic["tables"] >= 30 and realistic["database_bytes"] > 5e6
    deploy = results["deploy"]
    for side in ("deploy", "baseline"):
        assert [run["requests"] > 0 and run["max_ms"] > 0 for run in deploy[side]["runs"]] == [True]
        assert 0 <= deploy[side]["failed_median"] <= deploy[side]["requests"][0]
    [deployed] = deploy["deploy"]["runs"]
    assert deployed["wall_seconds"] > 0 and deployed["timings"]["backup"] > 0, "the deploy's own steps, from its ledger"
    for measured in results["datasets"].values():
        memory = measured["memory"]
        assert 0 < memory["backup"]["peak_mb"] < 1000 and 0 < memory["restore_drill"]["peak_mb"] < 1000
    goals = {(g["goal"].split()[0], g["where"]) for g in results["goals"]}
    assert {("backup", "realistic"), ("drill", "pgbench"), ("rehearsal", "realistic"), ("deploy", "realistic, run 1"),
            ("0", "realistic"), ("peak", "every dataset")} <= goals
    assert results["machine"]["cpu_count"] > 0
    table = (tmp_path / "latest.md").read_text()
    assert "| 1 backup, pgbench, " in table and "| 2 restore, realistic, " in table
    assert "| 4 memory, realistic, " in table and "## Issue 28's goals" in table
    assert "1 backup, realistic, " in done.stdout, "the summary table goes to stdout"
    assert "deploy wall <= backup + rehearsal + migrate + 15 s" in done.stdout, "and the goals table"
