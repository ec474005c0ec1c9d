"""The content-addressed uploads store: what a backup adds, what garbage collection deletes, the
rebuild a restore does, and the commands that move objects (whole argv)."""

import hashlib
import os

import pytest

from procedures.commands import files as files_cmd
from procedures.commands import rclone as rclone_cmd
from procedures.remote import uploads_store
from procedures.sets import uploads_walk

pytestmark = pytest.mark.unit

SET = "zenops.prod_zenops_20260301T023012Z"


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "uploads"
    (root / "a").mkdir(parents=True)
    (root / "a" / "one.txt").write_bytes(b"one")
    (root / "same.txt").write_bytes(b"one")  # the same content twice: one object
    (root / "two.bin").write_bytes(b"two" * 1000)
    os.chmod(root / "two.bin", 0o600)
    return root


def objects_in(store) -> list[str]:
    return sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file())


def test_a_first_store_adds_each_distinct_file_once_named_by_its_hash(tree, tmp_path):
    store = tmp_path / "store"
    found = uploads_walk.store_tree(str(tree), str(store))
    assert objects_in(store) == sorted([uploads_store.object_name(sha(b"one")), uploads_store.object_name(sha(b"two" * 1000))])
    assert found["new_objects"] == sorted([sha(b"one"), sha(b"two" * 1000)])
    assert found["new_bytes"] == 3 + 3000
    assert uploads_store.listed_part(found) == uploads_walk.walk_tree(str(tree))


def test_a_second_store_of_unchanged_files_adds_nothing_and_a_changed_file_adds_one(tree, tmp_path):
    store = tmp_path / "store"
    uploads_walk.store_tree(str(tree), str(store))
    again = uploads_walk.store_tree(str(tree), str(store))
    assert (again["new_objects"], again["new_bytes"]) == ([], 0)
    (tree / "two.bin").write_bytes(b"changed")
    changed = uploads_walk.store_tree(str(tree), str(store))
    assert changed["new_objects"] == [sha(b"changed")] and len(objects_in(store)) == 3
    assert not [p for p in objects_in(store) if p.endswith(".partial")]


def test_rebuild_gives_back_the_tree_with_its_modes_owners_and_names_absent_and_corrupt_objects(tree, tmp_path):
    """Owners too, so the app's non-root user can write into a rebuilt tree (as root, the backup
    container's user, a tree owned by another user; otherwise one's own)."""
    (tree / "private").mkdir()
    (tree / "private" / "key.txt").write_bytes(b"k")
    os.chmod(tree / "private", 0o750)
    if os.geteuid() == 0:
        for path in (tree, tree / "a", tree / "a" / "one.txt", tree / "private", tree / "private" / "key.txt"):
            os.chown(path, 10001, 10002)
    store, target = tmp_path / "store", tmp_path / "restored"
    found = uploads_walk.store_tree(str(tree), str(store))
    listed = tmp_path / "list.json"
    listed.write_text(__import__("json").dumps(uploads_store.listed_part(found)))
    assert uploads_walk.rebuild_tree(str(listed), str(store), str(target)) == {"absent": [], "corrupt": []}
    assert uploads_walk.walk_tree(str(target)) == uploads_walk.walk_tree(str(tree))

    (store / uploads_store.object_name(sha(b"two" * 1000))).unlink()
    (store / uploads_store.object_name(sha(b"one"))).write_bytes(b"rot")
    other = tmp_path / "again"
    assert uploads_walk.rebuild_tree(str(listed), str(store), str(other)) == {
        "absent": ["two.bin"], "corrupt": ["a/one.txt", "same.txt"]}


def test_garbage_is_every_stored_file_no_kept_list_references_partials_included():
    kept = {"aa/aa11", "bb/bb22"}
    present = ["aa/aa11", "bb/bb22", "cc/cc33", "dd/dd44.partial"]
    assert uploads_store.unreferenced(present, kept) == ["cc/cc33", "dd/dd44.partial"]
    assert uploads_store.unreferenced(["aa/aa11"], kept) == []
    assert uploads_store.unreferenced(present, set()) == sorted(present)


def test_referenced_objects_of_a_list():
    listed = {"files": [{"path": "x", "size": 1, "sha256": "ab" + "0" * 62, "mode": "0644"},
                        {"path": "y", "size": 1, "sha256": "ab" + "0" * 62, "mode": "0600"}], "skipped": []}
    assert uploads_store.referenced(listed) == {"ab/ab" + "0" * 62}


def test_the_lists_that_may_reference_a_projects_store_are_its_sets_of_any_env_or_database_without_a_tar_gz():
    listing = [f"{SET}.uploads.list.json", f"{SET}.dump", "zenops.staging_other_20260301T023012Z.uploads.list.json",
               "shop.prod_zenops_20260301T023012Z.uploads.list.json", "prod_zenops_20260301T023012Z.uploads.list.json",
               "zenops.prod_zenops_20260201T023012Z.uploads.list.json",
               "zenops.prod_zenops_20260201T023012Z.uploads.tar.gz", "notes.txt"]
    assert uploads_store.project_lists(listing, "zenops") == [
        f"{SET}.uploads.list.json", "zenops.staging_other_20260301T023012Z.uploads.list.json"]
    assert uploads_store.store_dir("zenops") == "uploads-store/zenops"


def test_an_unreadable_kept_list_deletes_nothing():
    from procedures.errors import UnsafeOperation

    def read(name):
        return "{not json" if name == "bad" else '{"files": [], "skipped": []}'
    with pytest.raises(UnsafeOperation, match="bad cannot be read.*nothing was deleted"):
        uploads_store._referenced_by(read, ["good", "bad"], "/backups")


def test_store_and_rclone_commands():
    assert files_cmd.store_uploads("/uploads", "/backups/uploads-store/zenops") == [
        "python3", "-", "store", "/uploads", "/backups/uploads-store/zenops"]
    assert files_cmd.rebuild_uploads("/backups/l.json", "/backups/uploads-store/zenops", "/restored") == [
        "python3", "-", "rebuild", "/backups/l.json", "/backups/uploads-store/zenops", "/restored"]
    assert files_cmd.store_listing("/s") == ["find", "/s", "-mindepth", "2", "-maxdepth", "2", "-type", "f",
                                             "-printf", "%P\n"]
    assert rclone_cmd.copy_objects("/s", "r:p/uploads-store/z", "/tmp/o") == [
        "rclone", "copy", "--stats=5s", "--stats-one-line", "--stats-log-level=NOTICE",
        "--size-only", "--files-from-raw", "/tmp/o", "/s", "r:p/uploads-store/z"]
    assert rclone_cmd.check_objects("/s", "r:x", "/tmp/o", crypt=True) == [
        "rclone", "cryptcheck", "--one-way", "--files-from-raw", "/tmp/o", "/s", "r:x"]
    # No --drive-use-trash=false: Drive's trash stays a last undo (docs/BACKUPS.md section 4).
    assert rclone_cmd.delete_objects("r:x", "/tmp/o") == [
        "rclone", "delete", "--files-from-raw", "/tmp/o", "r:x"]
    assert rclone_cmd.list_objects("r:x") == ["rclone", "lsf", "--recursive", "--files-only", "r:x"]
