from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from procedures.errors import ConfigError
from procedures.sets import names as names_module, sets
from procedures.sets.names import SUFFIXES, Identity, group_files, others, parse_set_name, parsed_sets, set_name

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 24, 2, 30, 5, tzinfo=timezone.utc)
ID = Identity("zen_ops-1", "prod", "zenops")
SET = "zen_ops-1.prod_zenops_20261124T023005Z"
OLD_SET = "prod_zenops_20261124T023005Z"  # named before sets carried the project

parts = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=offsets)


def test_name_carries_project_env_database_and_utc_time():
    local = AT.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert set_name(ID, local) == SET
    assert parse_set_name(SET + ".dump").identity == ID


def test_names_written_before_the_project_joined_them_parse_without_one():
    parsed = parse_set_name(OLD_SET + ".manifest.json")
    assert parsed.identity == Identity(None, "prod", "zenops") and parsed.taken_at == AT


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        set_name(ID, AT.replace(tzinfo=None))


@pytest.mark.parametrize("env, db", [
    ("prod_eu", "zenops"), ("prod", "zen_ops"), ("prod", "zen ops"), ("", "zenops"), ("prod", ""),
    ("prod\n", "zenops"), ("prød", "zenops"), ("prod", "zen.ops"),
])
def test_parts_that_break_parsing_are_refused(env, db):
    with pytest.raises(ConfigError, match="letters, digits and '-'"):
        set_name(Identity("p", env, db), AT)


def test_refusal_names_the_setting():
    with pytest.raises(ConfigError, match=r"\[stack\] environment"):
        set_name(Identity("p", "prod_eu", "zenops"), AT)
    with pytest.raises(ConfigError, match="database name"):
        set_name(Identity("p", "prod", "zen_ops"), AT)
    with pytest.raises(ConfigError, match=r"\[stack\] project"):
        set_name(Identity("Zen.Ops", "prod", "zenops"), AT)


projects = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,15}", fullmatch=True)


@given(projects, parts, parts, aware)
def test_round_trip_for_the_bare_name_and_every_file(project, env, database, moment):
    identity = Identity(project, env, database)
    name = set_name(identity, moment)
    expected = moment.astimezone(timezone.utc).replace(microsecond=0)
    for suffix, kind in [("", None), *SUFFIXES.items()]:
        parsed = parse_set_name(name + suffix)
        assert parsed is not None
        assert (parsed.name, parsed.identity, parsed.taken_at, parsed.kind) == (name, identity, expected, kind)
        assert set_name(parsed.identity, parsed.taken_at) == name


@given(projects, parts, parts, aware, st.sampled_from(["", *SUFFIXES]))
def test_partial_files_are_never_backups(project, env, database, moment, suffix):
    assert parse_set_name(set_name(Identity(project, env, database), moment) + suffix + ".partial") is None


def test_parses_each_kind():
    assert parse_set_name(SET).kind is None
    assert parse_set_name(SET + ".dump").kind == "dump"
    assert parse_set_name(SET + ".manifest.json").kind == "manifest"
    assert parse_set_name(SET + ".uploads.tar.gz").kind == "uploads"
    parsed = parse_set_name(SET + ".dump")
    assert (parsed.env, parsed.database, parsed.taken_at) == ("prod", "zenops", AT)


@pytest.mark.parametrize("name", [
    SET + ".dump.partial", SET + ".manifest.json.partial", SET + ".uploads.tar.gz.partial", SET + ".partial",
    SET + ".dump\n", SET + "\n", SET + ".sql", SET + ".dump.bak", SET + ".tar.gz", "x" + OLD_SET[len("prod"):] + ".DUMP",
    "Zen.prod_zenops_20261124T023005Z.dump", "a.b.prod_zenops_20261124T023005Z.dump",
    "notes.txt", "README", "lost+found", ".dump", "", "prod_zenops_2026-11-24.dump",
    "prod_zenops_20261399T023005Z.dump", "prod_zenops_20261124T023005.dump", "prod_zen_ops_20261124T023005Z.dump",
    "zenops_20261124T023005Z.dump", "prod_zenops_２０２６1124T023005Z.dump", "prod_zenops_20261124T023005Z_x.dump",
])
def test_partial_and_foreign_files_are_not_backups(name):
    assert parse_set_name(name) is None


def test_group_files_by_set():
    names = [SET + ".dump", SET + ".manifest.json", SET + ".uploads.tar.gz",
             "prod_zenops_20261123T023005Z.dump", "prod_zenops_20261125T023005Z.dump.partial",
             "prod_zenops_20261122T023005Z", "README"]
    assert group_files(names) == {
        SET: {"dump", "manifest", "uploads"},
        "prod_zenops_20261123T023005Z": {"dump"},
    }


def test_only_a_stacks_own_sets_are_its_own():
    """Two stacks, or two databases, sharing a folder: each sees only its own sets."""
    neighbour = Identity("zen_ops-2", "prod", "zenops")
    other_db = Identity("zen_ops-1", "prod", "billing")
    names = [f"{set_name(i, AT)}{suffix}" for i in (ID, neighbour, other_db) for suffix in (".dump", ".manifest.json")]
    names += [OLD_SET + ".dump"]
    assert set(group_files(names, ID)) == {SET}
    assert others(names, ID) == sorted([set_name(neighbour, AT), set_name(other_db, AT), OLD_SET])


def test_each_set_comes_parsed_with_the_kinds_of_its_files():
    found = parsed_sets([SET + ".dump", SET + ".manifest.json", OLD_SET + ".dump", "README"], ID)
    assert list(found) == [SET]
    parsed, kinds = found[SET]
    assert (parsed.name, parsed.identity, parsed.taken_at, parsed.kind, kinds) == (SET, ID, AT, None, {"dump", "manifest"})


def test_a_listing_is_parsed_once_per_file(monkeypatch):
    """The sets of a listing and their times come from one parse of each file name, none of the set names again."""
    seen = []
    monkeypatch.setattr(names_module, "parse_set_name", lambda name: seen.append(name) or parse_set_name(name))
    listing = [SET + ".dump", SET + ".manifest.json", set_name(ID, AT - timedelta(days=1)) + ".dump", "README"]
    found, groups = sets.to_sets(listing, ID)
    assert sorted(seen) == sorted(listing)
    assert [(s.name, s.taken_at, s.verified) for s in found] == [(SET, AT, True),
                                                                 (set_name(ID, AT - timedelta(days=1)),
                                                                  AT - timedelta(days=1), False)]


def test_group_files_of_nothing_is_empty():
    assert group_files([]) == {}
    assert group_files(iter(["notes.txt", SET + ".dump.partial"])) == {}


@given(st.dictionaries(aware.map(lambda t: set_name(ID, t)),
                       st.sets(st.sampled_from(sorted(SUFFIXES)), min_size=1), max_size=8),
       st.lists(st.sampled_from(["README", "x.partial", SET + ".dump.partial"]), max_size=3))
def test_group_files_recovers_what_was_written(written, noise):
    files = [name + suffix for name, suffixes in written.items() for suffix in suffixes] + noise
    assert group_files(files) == {name: {SUFFIXES[s] for s in suffixes} for name, suffixes in written.items()}
