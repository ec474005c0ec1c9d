"""The benchmark harness's pure parts: argv, the load's arithmetic and refusal, the RSS probe's parsing."""

import sys
from types import SimpleNamespace

import pytest

from bench import commands, load, rehearsal_bench, rss_probe, stats
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


def test_psql_script_and_pgbench_drop_argv():
    assert commands.psql_script("zenops", "zenops") == [
        "psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--username=zenops", "--dbname=zenops", "--file=-"]
    assert commands.pgbench_drop("zenops", "zenops") == [
        "pgbench", "--initialize", "--init-steps=d", "--quiet", "--username=zenops", "zenops"]


def test_the_realistic_schema_is_shaped_like_an_app():
    from bench import realistic

    sql = realistic.statements(1000)
    creates = [s for s in sql if s.startswith("CREATE TABLE ")]
    assert len(creates) == len(realistic.table_names()) >= 30
    keys = sum(s.count("REFERENCES") for s in sql if s.startswith(("CREATE TABLE ", "ALTER TABLE ")))
    assert keys >= 20, "foreign keys between the tables"
    assert all(kind in " ".join(creates) for kind in ("jsonb", "timestamptz", "text", "numeric"))
    assert sum(s.startswith("CREATE INDEX") for s in sql) >= 6 and any("USING gin" in s for s in sql)
    assert sql[0] == f"CREATE SCHEMA {realistic.SCHEMA}", "the app's own tables are never touched"


def test_the_realistic_large_tables_grow_with_the_size_and_the_small_ones_do_not():
    from bench import realistic

    small, large = realistic.large_rows(1000), realistic.large_rows(7000)
    assert all(large[name] == pytest.approx(7 * small[name], rel=0.01) for name in small)
    assert realistic.statements(1000)[2] == realistic.statements(7000)[2], "reference data stays the same size"
    with pytest.raises(ValueError):
        realistic.statements(0)


def test_an_unknown_dataset_is_refused_by_name(capsys):
    from bench.__main__ import parse

    with pytest.raises(SystemExit):
        parse(["--data", "pgbench,tpcc"])
    assert "--data: tpcc not one of pgbench, realistic" in capsys.readouterr().err
    assert parse([]).data == ["pgbench", "realistic"]


def test_raw_migration_shares_the_servers_network_and_gets_the_url_by_name_only():
    argv = commands.run_beside("srv", "opsuite-restore-p-bench-migrate-1", "api:1.1.0", ["DATABASE_URL"],
                               ["alembic", "upgrade", "head"])
    assert argv == ["docker", "run", "--rm", "--name", "opsuite-restore-p-bench-migrate-1", "--network=container:srv",
                    "--env=DATABASE_URL", "api:1.1.0", "alembic", "upgrade", "head"]


def test_rehearsal_ratio_is_over_raw_restore_plus_raw_migrate():
    restore, migrate = stats.summary([4.0, 5.0, 9.0]), stats.summary([1.0, 1.5, 2.0])
    assert rehearsal_bench.ratio_to_raw(stats.summary([7.0, 8.45, 30.0]), restore, migrate) == 1.3


def test_the_realistic_large_tables_load_in_two_sessions_and_get_their_foreign_keys_after_their_data():
    from bench import realistic

    schema, large, last = realistic.phases(1000)
    assert len(schema) == 1 and len(large) == 2 and len(last) == 1
    assert all(script[0] == f"SET search_path = {realistic.SCHEMA}" for script in large), "each session its own path"
    loaded = [s.split()[2] for script in large for s in script if s.startswith("INSERT INTO ")]
    assert sorted(loaded) == sorted(["events", "comments", "audit_log", "webhook_deliveries"])
    assert not any("REFERENCES" in s for script in large for s in script), "no trigger per row while loading"
    keys = [s for s in last[0] if s.startswith("ALTER TABLE ")]
    assert len(keys) == 6 and all("ADD FOREIGN KEY" in k for k in keys)
    assert last[0][-1] == "ANALYZE" and "DROP TABLE paragraph_pool" in last[0]
    assert realistic.statements(1000) == [s for phase in (schema, large, last) for script in phase for s in script]


def test_the_realistic_text_picks_its_paragraph_in_bigint_past_271000_rows():
    from bench import realistic

    assert "(i::bigint * 7919) % 5000" in realistic._text("i"), "int4 overflows at 1 GB (about 1 million events)"


def test_the_realistic_sizes_are_measured_in_turn_from_the_smallest():
    from bench.__main__ import parse, runs

    assert runs(parse([])) == [("pgbench", "pgbench", 1000), ("realistic", "realistic", 1000)]
    assert runs(parse(["--data", "realistic", "--megabytes", "7000,1000"])) == [
        ("realistic-1000MB", "realistic", 1000), ("realistic-7000MB", "realistic", 7000)]
