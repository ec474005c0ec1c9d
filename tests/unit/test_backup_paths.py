"""[backup] paths: host paths checked at load, and the commands that archive and list them."""

import pytest

from procedures.backup import host_paths
from procedures.backup.names import parse_set_name
from procedures.commands import files as cmd
from procedures.config import load_config
from procedures.errors import ConfigError

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
    ('["data"]', "must be an absolute host path other than /"),
    ('["/"]', "must be an absolute host path other than /"),
    ('["//."]', "must be an absolute host path other than /"),
    ('["/nonexistent/opsuite-data"]', "does not exist on this host; fix the path or remove it"),
    ('["/tmp:/x"]', "holds ':'"),
    ('"/tmp"', "must be a list of host paths"),
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
        "tar", "--create", "--gzip", "--file", "/backups/s.paths.tar.gz.partial", "--directory", "/opsuite-paths",
        "--", "srv/shop/data", "srv/shop/media"]
    assert cmd.list_archive("/backups/s.paths.tar.gz") == ["tar", "--list", "--gzip", "--file", "/backups/s.paths.tar.gz"]


def test_the_archive_is_a_file_of_its_set():
    parsed = parse_set_name("zen.prod_zenops_20260101T000000Z.paths.tar.gz")
    assert (parsed.name, parsed.kind) == ("zen.prod_zenops_20260101T000000Z", "paths")
