"""Pure parts of the disaster restore for a database outside the stack: the new database's name, the
SQL that creates it and the SQL that finds a switch's target."""

from datetime import datetime, timezone

import pytest

from procedures import restored_names
from procedures.commands import postgres as pg

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 28, 2, 30, tzinfo=timezone.utc)


def test_a_new_database_is_named_for_the_old_one_and_the_moment():
    assert restored_names.new_name("zakops", NOW, 63) == "zakops_restored_20261128T023000Z"
    again = restored_names.new_name("zakops_restored_20261101T000000Z", NOW, 63)
    assert again == "zakops_restored_20261128T023000Z", "a second restore replaces the stamp, never stacks it"
    assert len(restored_names.new_name("x" * 80, NOW, 63)) == 63, "within Postgres' identifier length"


@pytest.mark.parametrize("bad", ['a"; DROP DATABASE zakops; --', "name with space", "über"])
def test_only_names_the_suite_makes_reach_create_database(bad):
    with pytest.raises(ValueError):
        pg.create_database_sql(bad)
    assert pg.create_database_sql("zakops_restored_20261128T023000Z") == 'CREATE DATABASE "zakops_restored_20261128T023000Z"'


@pytest.mark.parametrize("name", ["zakops", "it's", "x'; DROP DATABASE zakops; --"])
def test_the_switch_target_reaches_sql_only_as_a_quoted_literal(name):
    sql = pg.database_exists_sql(name)
    literal = sql.split("datname = ", 1)[1]
    assert literal.startswith("'") and literal.endswith("'")
    assert literal[1:-1].replace("''", "").count("'") == 0, "every quote inside is doubled"
    assert literal[1:-1].replace("''", "'") == name


def test_a_restored_database_keeps_the_name_its_backups_carry():
    """Backups after a disaster restore continue the series of the database it replaced (a set name
    allows no '_' in the database part, and retention and the drill choose by that name)."""
    assert restored_names.original_name("zakops_restored_20261128T044635Z") == "zakops"
    assert restored_names.original_name("zakops") == "zakops"
    assert restored_names.original_name("zakops_restored_later") == "zakops_restored_later", "only the suite's stamp"
