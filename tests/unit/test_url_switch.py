"""Pure parts of the disaster restore for a database outside the stack: the new database's name and
the SQL that creates it."""

from datetime import datetime, timezone

import pytest

from procedures.commands import postgres as pg
from procedures.restore import disaster

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 28, 2, 30, tzinfo=timezone.utc)


def test_a_new_database_is_named_for_the_old_one_and_the_moment():
    assert disaster.new_volume_name("zakops", NOW, 63) == "zakops_restored_20261128T023000Z"
    again = disaster.new_volume_name("zakops_restored_20261101T000000Z", NOW, 63)
    assert again == "zakops_restored_20261128T023000Z", "a second restore replaces the stamp, never stacks it"
    assert len(disaster.new_volume_name("x" * 80, NOW, 63)) == 63, "within Postgres' identifier length"


@pytest.mark.parametrize("bad", ['a"; DROP DATABASE zakops; --', "name with space", "über"])
def test_only_names_the_suite_makes_reach_create_database(bad):
    with pytest.raises(ValueError):
        pg.create_database_sql(bad)
    assert pg.create_database_sql("zakops_restored_20261128T023000Z") == 'CREATE DATABASE "zakops_restored_20261128T023000Z"'
