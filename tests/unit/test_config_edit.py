"""The volume switch rewrites one setting of the stack's config, atomically, keeping the old file."""

import tomllib

import pytest

from procedures.restore import config_edit
from procedures.errors import ConfigError

pytestmark = pytest.mark.unit

ORIGINAL = """[stack]
project = "zenops"  # the compose project

[volumes]
backups = "backups"
database = "zenops_pgdata"   # keep this comment

[database]
engine = "postgres"
"""


def test_rewrites_only_the_database_volume_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "ops.toml"
    path.write_text(ORIGINAL)
    kept = config_edit.set_volumes(path, {"database": "zenops_pgdata_restored_20261124T180000Z"})
    assert kept.read_text() == ORIGINAL and kept.name.startswith("ops.toml.")
    text = path.read_text()
    assert 'database = "zenops_pgdata_restored_20261124T180000Z"   # keep this comment' in text
    assert text.replace("_restored_20261124T180000Z", "") == ORIGINAL
    assert not list(tmp_path.glob("*.partial")), "no partial file is left under any name"


def test_adds_the_setting_when_the_section_or_the_key_is_missing(tmp_path):
    no_key = tmp_path / "a.toml"
    no_key.write_text('[volumes]\nbackups = "b"\n\n[http]\nbase_url = "http://x"\n')
    config_edit.set_volumes(no_key, {"database": "new_one"})
    assert tomllib.loads(no_key.read_text())["volumes"] == {"backups": "b", "database": "new_one"}
    assert tomllib.loads(no_key.read_text())["http"] == {"base_url": "http://x"}
    no_section = tmp_path / "b.toml"
    no_section.write_text('[stack]\nproject = "p"\n')
    config_edit.set_volumes(no_section, {"database": "new_one"})
    assert tomllib.loads(no_section.read_text())["volumes"]["database"] == "new_one"


def test_a_database_key_in_another_section_is_left_alone(tmp_path):
    path = tmp_path / "ops.toml"
    path.write_text('[database]\ndatabase = "zenops"\n\n[volumes]\ndatabase = "old"\n')
    config_edit.set_volumes(path, {"database": "new"})
    parsed = tomllib.loads(path.read_text())
    assert parsed["database"]["database"] == "zenops" and parsed["volumes"]["database"] == "new"


@pytest.mark.parametrize("bad", ["", "with space", 'quote"', "-leading-dash", "a/b"])
def test_refuses_names_that_are_not_volume_names(tmp_path, bad):
    path = tmp_path / "ops.toml"
    path.write_text(ORIGINAL)
    with pytest.raises(ConfigError):
        config_edit.set_volumes(path, {"database": bad})
    assert path.read_text() == ORIGINAL


def test_env_file_is_updated_only_when_it_names_the_volume(tmp_path):
    with_line = tmp_path / "with.env"
    with_line.write_text("POSTGRES_DB=zenops\nPGDATA_VOLUME=old\n")
    assert config_edit.set_env_volumes(with_line, {"database": "new"}) is not None
    assert with_line.read_text() == "POSTGRES_DB=zenops\nPGDATA_VOLUME=new\n"
    without = tmp_path / "without.env"
    without.write_text("POSTGRES_DB=zenops\n")
    assert config_edit.set_env_volumes(without, {"database": "new"}) is None
    assert without.read_text() == "POSTGRES_DB=zenops\n"


def test_the_copy_is_registered_before_the_file_changes(tmp_path):
    """A switch puts back what it registered: the copy must be known before the rewrite, or a signal
    arriving just after it would leave the new name in the file."""
    path = tmp_path / "ops.toml"
    path.write_text(ORIGINAL)
    seen = []
    kept = config_edit.set_volumes(path, {"database": "new"},
                                   lambda copy: seen.append((copy.read_text(), path.read_text())))
    assert seen == [(ORIGINAL, ORIGINAL)] and kept.read_text() == ORIGINAL


def test_database_and_uploads_volumes_are_set_in_one_rewrite(tmp_path):
    path = tmp_path / "ops.toml"
    path.write_text(ORIGINAL)
    kept = config_edit.set_volumes(path, {"database": "db_restored_1", "uploads_volume": "up_restored_1"})
    assert kept.read_text() == ORIGINAL
    assert tomllib.loads(path.read_text())["volumes"] == {"backups": "backups", "database": "db_restored_1",
                                                          "uploads_volume": "up_restored_1"}
    assert len(list(tmp_path.glob("ops.toml.*.before-volume-switch"))) == 1
    with pytest.raises(ConfigError, match="not a setting a switch rewrites"):
        config_edit.set_volumes(path, {"backups": "x"})


def test_env_file_gets_each_volume_line_it_has(tmp_path):
    env = tmp_path / ".env"
    env.write_text("PGDATA_VOLUME=old\nUPLOADS_VOLUME=old_up\nOTHER=a=b\n")
    config_edit.set_env_volumes(env, {"database": "new", "uploads_volume": "new_up"})
    assert env.read_text() == "PGDATA_VOLUME=new\nUPLOADS_VOLUME=new_up\nOTHER=a=b\n"
    only_db = tmp_path / "db.env"
    only_db.write_text("PGDATA_VOLUME=old\n")
    config_edit.set_env_volumes(only_db, {"database": "new", "uploads_volume": "new_up"})
    assert only_db.read_text() == "PGDATA_VOLUME=new\n", "a line the operator never wrote is not added"


def test_one_env_variable_is_rewritten_and_the_file_kept(tmp_path):
    env = tmp_path / ".env"
    env.write_text("# managed db\nDATABASE_URL=postgresql://u:p@h/zakops?sslmode=require\nOTHER=1\n")
    kept = config_edit.set_env_value(env, "DATABASE_URL", "postgresql://u:p@h/zakops_restored?sslmode=require")
    assert env.read_text() == "# managed db\nDATABASE_URL=postgresql://u:p@h/zakops_restored?sslmode=require\nOTHER=1\n"
    assert kept.read_text().startswith("# managed db\nDATABASE_URL=postgresql://u:p@h/zakops?")


@pytest.mark.parametrize("text", ["OTHER=1\n", "DATABASE_URL=a\nDATABASE_URL=b\n"])
def test_an_env_file_without_exactly_one_line_for_the_variable_is_refused_unchanged(tmp_path, text):
    env = tmp_path / ".env"
    env.write_text(text)
    with pytest.raises(ConfigError, match="a switch rewrites exactly one"):
        config_edit.set_env_value(env, "DATABASE_URL", "postgresql://x")
    assert env.read_text() == text and list(tmp_path.iterdir()) == [env]
