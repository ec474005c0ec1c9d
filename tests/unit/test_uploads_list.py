"""The uploads file list: listing a tree and an archive the same way, comparing lists, the drill's skip reasons."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from procedures import runner
from procedures.commands import docker as docker_cmd
from procedures.commands import files as files_cmd
from procedures.errors import BackupError
from procedures.restore import uploads as restore_uploads
from procedures.sets import names, sets, uploads_list, uploads_walk
from procedures.sets.chosen import Chosen

pytestmark = pytest.mark.unit

SET = "zenops.prod_zenops_20260301T023012Z"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "uploads"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "report.pdf").write_bytes(b"%PDF-1.7 report")
    (root / "top name.txt").write_text("hello")
    (root / "empty").write_bytes(b"")
    (root / "empty-dir").mkdir()
    os.chmod(root / "top name.txt", 0o600)
    os.symlink("top name.txt", root / "link")
    return root


def entry(path, content: bytes, mode="0644", owner=None):
    import hashlib
    uid, gid = owner or (os.getuid(), os.getgid())
    return {"path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest(), "mode": mode,
            "uid": uid, "gid": gid}


def test_tree_lists_regular_files_with_size_hash_and_mode_and_skips_symlinks(tree):
    walked = uploads_walk.walk_tree(str(tree))
    assert walked["files"] == [entry("a/b/report.pdf", b"%PDF-1.7 report"), entry("empty", b""),
                               entry("top name.txt", b"hello", "0600")]
    assert walked["skipped"] == ["link"]
    assert [d["path"] for d in walked["directories"]] == [".", "a", "a/b", "empty-dir"]
    assert walked["directories"][0]["uid"] == os.getuid()


def test_an_archive_made_by_tar_lists_exactly_as_its_tree(tree, tmp_path):
    archive = tmp_path / "u.tar.gz"
    runner.run(files_cmd.archive(str(tree), str(archive)), limit="dump")
    assert uploads_walk.walk_archive(str(archive)) == uploads_walk.walk_tree(str(tree))
    target = tmp_path / "restored"
    target.mkdir()
    runner.run(files_cmd.extract_archive(str(archive), str(target)), limit="dump")
    assert uploads_walk.walk_tree(str(target)) == uploads_walk.walk_tree(str(tree))


def test_the_lister_runs_from_stdin_as_the_container_runs_it(tree):
    done = runner.run(files_cmd.walk_uploads("tree", str(tree)), input_text=uploads_list.WALK_SOURCE, limit="check")
    assert uploads_list.parse(done.stdout) == uploads_walk.walk_tree(str(tree))


def test_an_unreadable_directory_is_an_error_not_a_gap():
    """Run as an unprivileged user (root reads every directory), as the lister would meet it."""
    top = Path(tempfile.mkdtemp(prefix="uploads-walk-"))
    try:
        (top / "a").mkdir()
        (top / "a" / "f").write_bytes(b"x")
        (top / "b.txt").write_bytes(b"y")
        os.chmod(top, 0o755)
        os.chmod(top / "b.txt", 0o644)
        os.chmod(top / "a", 0)
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        done = subprocess.run([*as_nobody, sys.executable, "-", "tree", str(top)], input=uploads_list.WALK_SOURCE,
                              capture_output=True, text=True)
        assert done.returncode != 0 and "Permission denied" in done.stderr, done.stdout + done.stderr
    finally:
        os.chmod(top / "a", 0o755)
        shutil.rmtree(top)


def test_compare_names_missing_extra_and_differing_files():
    recorded = [entry("same", b"x"), entry("gone", b"y"), entry("changed", b"old"), entry("chmod", b"z")]
    restored = [entry("same", b"x"), entry("new", b"n"), entry("changed", b"new"), entry("chmod", b"z", "0600")]
    difference = uploads_list.compare(recorded, restored)
    assert difference.missing == ["gone"] and difference.extra == ["new"]
    assert [d["path"] for d in difference.differing] == ["changed", "chmod"]
    assert set(difference.differing[0]) == {"path", "sha256"}  # same size, other content
    assert difference.differing[1]["mode"] == {"recorded": "0644", "restored": "0600"}
    assert not difference.same
    assert difference.describe() == "1 missing: gone; 1 extra: new; 2 differing: changed, chmod"
    assert uploads_list.compare(recorded, list(reversed(recorded))).same


def test_owners_are_compared_only_when_both_lists_record_them():
    """Lists written before owners were recorded compare on size, hash and mode alone."""
    recorded, restored = entry("f", b"x", owner=(10001, 10001)), entry("f", b"x", owner=(0, 0))
    assert uploads_list.compare([recorded], [restored]).differing == [
        {"path": "f", "uid": {"recorded": 10001, "restored": 0}, "gid": {"recorded": 10001, "restored": 0}}]
    older = {k: v for k, v in recorded.items() if k not in uploads_list.OWNER}
    assert uploads_list.compare([older], [restored]).same
    assert uploads_list.parse(json.dumps({"files": [older], "skipped": []}))["files"] == [older]


def test_describe_shortens_long_lists():
    difference = uploads_list.Difference([f"f{i:02}" for i in range(25)], [], [])
    assert difference.describe(limit=3) == "25 missing: f00, f01, f02 and 22 more"


def test_parse_refuses_entries_without_the_listed_fields():
    with pytest.raises(BackupError, match="fields"):
        uploads_list.parse('{"files": [{"path": "a", "size": 1}], "skipped": []}')


def test_summary_counts_files_and_bytes(tree):
    assert uploads_list.summary(uploads_walk.walk_tree(str(tree))) == {"files": 3, "bytes": 20, "skipped": ["link"]}


def test_the_list_is_a_file_of_the_set_uploaded_and_pruned_with_it():
    parsed = names.parse_set_name(SET + ".uploads.list.json")
    assert parsed.name == SET and parsed.kind == "uploads_list"
    assert names.parse_set_name(SET + ".uploads.list.json.partial") is None
    listing = [SET + s for s in (".manifest.json", ".uploads.list.json", ".dump", ".uploads.tar.gz")]
    assert sets.complete_files(listing, names.parse_set_name(SET).identity) == [
        SET + ".dump", SET + ".uploads.tar.gz", SET + ".uploads.list.json", SET + ".manifest.json"]
    assert sorted(sets.files_of(SET, listing)) == sorted(listing)


def test_builders():
    assert files_cmd.walk_uploads("tree", "/restored") == ["python3", "-", "tree", "/restored"]
    assert files_cmd.walk_uploads("archive", "/b/x.tar.gz") == ["python3", "-", "archive", "/b/x.tar.gz"]
    with pytest.raises(ValueError):
        files_cmd.walk_uploads("tree; rm -rf /", "/x")
    assert files_cmd.extract_archive("/backups/x.tar.gz", "/r") == [
        "tar", "--extract", "--gzip", "--preserve-permissions", "--numeric-owner", "--file", "/backups/x.tar.gz", "--directory", "/r"]
    assert docker_cmd.run_isolated_idle("opsuite-restore-p-uploads-1", "img:1", "opsuite-restore-p-uploads-1",
                                        "/restored-uploads", "p_backups", {"io.opsuite.role": "restore-test"}) == [
        "docker", "run", "--detach", "--name", "opsuite-restore-p-uploads-1", "--network", "none",
        "--mount", "type=volume,src=opsuite-restore-p-uploads-1,dst=/restored-uploads",
        "--mount", "type=volume,src=p_backups,dst=/backups,readonly",
        "--label", "io.opsuite.role=restore-test", "img:1", "sleep", "infinity"]


class _Run:
    def __init__(self, uploads):
        self.chosen = Chosen(SET, {"uploads": uploads})


def test_the_drill_says_why_a_set_has_no_uploads_to_compare():
    assert "uploads_archive was false" in restore_uploads.not_applicable(_Run(None))
    assert "before uploads file lists" in restore_uploads.not_applicable(_Run({"file": "x", "sha256": "s"}))
    assert restore_uploads.not_applicable(_Run({"file": "x", "sha256": "s", "list": {"file": "l"}})) is None


def test_the_throwaway_uploads_volume_carries_the_reserved_prefix():
    name = restore_uploads.throwaway_name("zenops")
    assert name.startswith("opsuite-restore-zenops-uploads-")
    assert restore_uploads.throwaway_name("zenops") != name
