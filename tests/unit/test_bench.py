"""The benchmark harness's pure parts: argv, the load's arithmetic and refusal, the RSS probe's parsing."""

import sys
from types import SimpleNamespace

import pytest

from bench import commands, load, rss_probe, stats
from procedures.commands import postgres as pg
from procedures.errors import UnsafeOperation
from testkit.ops_run import check_argv

pytestmark = pytest.mark.unit


def test_pgbench_init_argv():
    assert commands.pgbench_init(68, "zenops", "zenops") == [
        "pgbench", "--initialize", "--scale=68", "--quiet", "--username=zenops", "zenops"]


def test_raw_restore_and_the_drill_share_one_pg_restore_argv():
    assert pg.restore("/backups/x.dump", "raw_0", "restore", 2) == [
        "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--verbose", "--jobs=2",
        "--host", "127.0.0.1", "--username", "restore", "--dbname", "raw_0", "/backups/x.dump"]


def test_database_argv():
    assert commands.create_database("raw_0", "restore") == [
        "createdb", "--host", "127.0.0.1", "--username", "restore", "raw_0"]
    assert commands.drop_database("raw_0", "restore") == [
        "dropdb", "--host", "127.0.0.1", "--username", "restore", "raw_0"]


def test_ops_check_argv_runs_the_check_as_users_do():
    stack = SimpleNamespace(config_path="/t/s.toml")
    assert check_argv(stack, "restore_drill", "--backup=S", report="/t/r.html") == [
        sys.executable, "-m", "pytest", "ops_checks/restore_drill.py", "--ops-config=/t/s.toml",
        "-p", "no:cacheprovider", "--html=/t/r.html", "--backup=S"]


def test_load_summary_counts_errors_and_non_2xx_and_the_failure_window():
    samples = [load.Sample(0.0, 0.01, 200), load.Sample(0.05, 1.2, 502), load.Sample(0.10, 0.3, None),
               load.Sample(0.15, 0.02, 200)]
    summary = load.summarize(samples, 2.0)
    assert summary["requests"] == 4 and summary["failed"] == 2
    assert summary["errors"] == 1 and summary["non_2xx"] == 1
    assert summary["max_ms"] == 1200.0 and summary["max_ok_ms"] == 20.0
    assert summary["failure_window_seconds"] == 0.05


def test_load_refuses_anything_but_loopback():
    with pytest.raises(UnsafeOperation, match="loopback only"):
        load.ConstantLoad("http://example.org/notes", 20, 1)


def test_ratio_of_medians():
    raw, full = stats.summary([4.0, 5.0, 9.0]), stats.summary([6.0, 7.0, 6.5])
    assert raw["median"] == 5.0 and full["median"] == 6.5 and stats.ratio(full, raw) == 1.3


def test_rss_probe_reads_vmhwm(tmp_path):
    status = tmp_path / "status"
    status.write_text("Name:\tpytest\nVmPeak:\t  300000 kB\nVmHWM:\t   55123 kB\nVmRSS:\t   50000 kB\n")
    assert rss_probe.peak_rss_kib(status) == 55123


def test_the_wait_bound_leaves_out_the_rollback_check_and_allows_backup_migrate_and_20_s():
    from bench.zero_downtime import wait_bound

    timings = {"backup": 9.0, "migrate": 3.0, "rollback_check": 22.0, "up": 8.0}
    assert wait_bound(timings, 50.0) == {"limit_seconds": 32.0, "wall_without_rollback_check": 28.0, "within": True}
    assert wait_bound(timings, 60.0)["within"] is False
