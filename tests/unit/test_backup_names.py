from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from procedures.backup_names import group_files, parse_set_name, set_name
from procedures.errors import ConfigError

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 24, 2, 30, 5, tzinfo=timezone.utc)


def test_name_carries_env_database_and_utc_time():
    local = AT.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert set_name("prod", "zenops", local) == "prod_zenops_20261124T023005Z"


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        set_name("prod", "zenops", AT.replace(tzinfo=None))


@pytest.mark.parametrize("env, db", [("prod_eu", "zenops"), ("prod", "zen ops"), ("", "zenops")])
def test_parts_that_break_parsing_are_refused(env, db):
    with pytest.raises(ConfigError, match="letters, digits and '-'"):
        set_name(env, db, AT)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(timezone.utc)))
def test_round_trip(moment):
    moment = moment.replace(microsecond=0)
    parsed = parse_set_name(set_name("prod", "zenops", moment) + ".dump")
    assert (parsed.env, parsed.database, parsed.taken_at, parsed.kind) == ("prod", "zenops", moment, "dump")


@pytest.mark.parametrize("name", [
    "prod_zenops_20261124T023005Z.dump.partial", "prod_zenops_20261124T023005Z.manifest.json.partial",
    "notes.txt", "prod_zenops_2026-11-24.dump", "prod_zenops_20261399T023005Z.dump", "lost+found",
])
def test_partial_and_foreign_files_are_not_backups(name):
    assert parse_set_name(name) is None


def test_group_files_by_set():
    names = ["prod_zenops_20261124T023005Z.dump", "prod_zenops_20261124T023005Z.manifest.json",
             "prod_zenops_20261124T023005Z.uploads.tar.gz", "prod_zenops_20261123T023005Z.dump",
             "prod_zenops_20261125T023005Z.dump.partial", "README"]
    assert group_files(names) == {
        "prod_zenops_20261124T023005Z": {"dump", "manifest", "uploads"},
        "prod_zenops_20261123T023005Z": {"dump"},
    }
