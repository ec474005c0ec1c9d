"""[backup] paths: host paths checked at load, the commands that archive and list them, and how the
drill compares an extraction with the members the manifest recorded."""

from types import SimpleNamespace

import pytest

from procedures.backup import host_paths
from procedures.commands import files as cmd
from procedures.load import load_config
from procedures.errors import ConfigError
from procedures.restore import host_paths as restore_paths
from procedures.sets.names import parse_set_name

pytestmark = pytest.mark.unit
STACK = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n'


def load(tmp_path, paths: str):
    (tmp_path / "a.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text(f"{STACK}[backup]\npaths = {paths}\n")
    return load_config(path)


def test_paths_default_to_none(tmp_path):
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / "ops.toml").write_text(STACK)
    assert load_config(tmp_path / "ops.toml").backup.paths == ()


def test_existing_absolute_paths_are_kept_normalised(tmp_path):
    (tmp_path / "data" / "sub").mkdir(parents=True)
    config = load(tmp_path, f'["{tmp_path}/data/", "{tmp_path}//data/sub"]')
    assert config.backup.paths == (f"{tmp_path}/data", f"{tmp_path}/data/sub")


@pytest.mark.parametrize("paths, message", [
    ('["data"]', '\\[0\\] = "data": expected an absolute host path'),
    ('["/"]', "'/' is the whole host"),
    ('["//."]', "'/' is the whole host"),
    ('["/nonexistent/opsuite-data"]', "does not exist on this host; fix the path or remove it"),
    ('["/tmp:/x"]', "without ':'"),
    ('"/tmp"', 'expected a list of absolute host paths'),
    ('["/tmp", "/tmp/"]', "lists '/tmp' twice"),
])
def test_bad_paths_name_the_setting_and_the_fix(tmp_path, paths, message):
    with pytest.raises(ConfigError, match=r"\[backup\] paths.*" + message.replace("(", r"\(").replace("/", "/")):
        load(tmp_path, paths)


def test_commands_archive_and_list_the_paths_by_their_host_path():
    paths = ("/srv/shop/data", "/srv/shop/media")
    assert host_paths.mounts(paths) == ["/srv/shop/data:/opsuite-paths/srv/shop/data:ro",
                                        "/srv/shop/media:/opsuite-paths/srv/shop/media:ro"]
    assert cmd.archive_paths(host_paths.ROOT, host_paths.members(paths), "/backups/s.paths.tar.gz.partial") == [
        "tar", "--create", "--gzip", "--hard-dereference", "--file", "/backups/s.paths.tar.gz.partial",
        "--directory", "/opsuite-paths",
        "--", "srv/shop/data", "srv/shop/media"]
    assert cmd.list_archive("/backups/s.paths.tar.gz") == ["tar", "--list", "--gzip", "--file", "/backups/s.paths.tar.gz"]


def test_the_archive_is_a_file_of_its_set():
    parsed = parse_set_name("zen.prod_zenops_20260101T000000Z.paths.tar.gz")
    assert (parsed.name, parsed.kind) == ("zen.prod_zenops_20260101T000000Z", "paths")


def _file(path, sha="a" * 64, size=3, mode="0644"):
    return {"path": path, "size": size, "sha256": sha, "mode": mode, "uid": 1000, "gid": 1000}


RECORDED = {"files": [_file("srv/d/a"), _file("srv/d/sub/b")], "skipped": ["srv/d/link"],
            "directories": [{"path": "srv/d", "mode": "0755", "uid": 1000, "gid": 1000},
                            {"path": "srv/d/empty", "mode": "0700", "uid": 1000, "gid": 1000}]}


def test_an_extraction_equal_to_the_recorded_members_has_no_difference():
    extracted = {**RECORDED, "directories": [{"path": ".", "mode": "0755", "uid": 0, "gid": 0},
                                             {"path": "srv", "mode": "0755", "uid": 0, "gid": 0},
                                             *RECORDED["directories"]]}
    difference = restore_paths.compare(RECORDED, extracted)
    assert not any(difference.values()) and restore_paths.describe(difference) == ""


def test_every_kind_of_difference_is_named():
    extracted = {"files": [_file("srv/d/a", sha="b" * 64), _file("srv/d/new")], "skipped": ["srv/d/other"],
                 "directories": [{"path": "srv/d", "mode": "0777", "uid": 1000, "gid": 1000}]}
    difference = restore_paths.compare(RECORDED, extracted)
    assert difference["missing"] == ["srv/d/sub/b", "srv/d/empty"] and difference["extra"] == ["srv/d/new"]
    assert [d["path"] for d in difference["differing"]] == ["srv/d/a", "srv/d"]
    assert difference["differing"][1]["mode"] == {"recorded": "0755", "restored": "0777"}
    assert (difference["other_missing"], difference["other_extra"]) == (["srv/d/link"], ["srv/d/other"])
    assert restore_paths.describe(difference) == (
        "2 missing: srv/d/sub/b, srv/d/empty; 1 extra: srv/d/new; 2 differing: srv/d/a, srv/d; "
        "1 other missing: srv/d/link; 1 other extra: srv/d/other")


def test_the_drill_says_why_a_set_has_no_paths_to_extract():
    def run(paths):
        return SimpleNamespace(chosen=SimpleNamespace(manifest={"paths": paths}))
    assert "([backup] paths was empty" in restore_paths.not_applicable(run(None))
    assert "before the archive's members were recorded" in restore_paths.not_applicable(run({"file": "s.paths.tar.gz"}))
    assert restore_paths.not_applicable(run({"file": "s.paths.tar.gz", "members": RECORDED})) is None
    assert restore_paths.not_applicable(SimpleNamespace(chosen=None)) is None


def test_entries_are_counted_from_the_walk_as_tar_lists_them():
    assert host_paths.entry_counts(RECORDED) == {"entries": 5, "files": 2}
