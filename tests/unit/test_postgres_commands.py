import pytest

from procedures.commands import postgres as pg
from procedures.config import TimeoutsConfig

pytestmark = pytest.mark.unit


def test_dump_fails_after_the_lock_wait_instead_of_queueing_behind_a_table_lock():
    assert pg.dump("/backups/x.dump.partial", "00000003-1") == [
        "pg_dump", "--format=custom", "--lock-wait-timeout=60s", "--file", "/backups/x.dump.partial",
        "--snapshot", "00000003-1"]
    assert pg.dump("/b/x.dump", lock_wait_seconds=5) == [
        "pg_dump", "--format=custom", "--lock-wait-timeout=5s", "--file", "/b/x.dump"]


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
