import pytest

from procedures.commands import postgres as pg
from procedures.config import TimeoutsConfig

pytestmark = pytest.mark.unit


def test_dump_fails_after_the_lock_wait_instead_of_queueing_behind_a_table_lock():
    assert pg.dump("/backups/x.dump.partial", "00000003-1") == [
        "pg_dump", "--format=custom", "--lock-wait-timeout=60s", "--verbose", "--file", "/backups/x.dump.partial",
        "--snapshot", "00000003-1"]
    assert pg.dump("/b/x.dump", lock_wait_seconds=5) == [
        "pg_dump", "--format=custom", "--lock-wait-timeout=5s", "--verbose", "--file", "/b/x.dump"]


def test_a_restore_over_the_url_names_each_table_as_it_goes():
    assert pg.restore_over_url("/backups/x.dump", "zen_restored_1", 2) == [
        "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--verbose", "--jobs=2",
        "--dbname", "zen_restored_1", "/backups/x.dump"]


def test_the_progress_total_counts_the_tables_the_row_counts_count():
    assert pg.BASE_TABLE_COUNT_SQL == (
        "SELECT count(*) FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema')")
    assert pg.ROW_COUNTS_SQL.endswith(pg.BASE_TABLE_COUNT_SQL.removeprefix("SELECT count(*) ") + " ORDER BY 1")


def test_dump_lock_wait_default_is_the_config_default():
    assert f"--lock-wait-timeout={TimeoutsConfig().pg_lock_wait_seconds}s" in pg.dump("/b/x.dump")


def test_the_revision_query_is_read_as_one_text_value():
    assert pg.revision_sql("SELECT max(version) FROM schema_migrations;\n") == (
        "SELECT coalesce((SELECT max(version) FROM schema_migrations)::text, '')")


def test_no_revision_query_records_no_revision_without_asking_the_database():
    from procedures.config import OpsConfig, StackConfig, DatabaseConfig
    from procedures.engines.postgres import PostgresInStack

    class Unasked:
        def query(self, sql):
            raise AssertionError(f"asked {sql}")

    config = OpsConfig(stack=StackConfig(project="p", compose_files=()), database=DatabaseConfig(revision_query=""))
    assert PostgresInStack(config).schema_revision(Unasked()) == ""
