"""A backup asks each question once per run and batches what one command can answer (issue 28, item 2):
the memos on the box and the run, and the whole argv of each batched command. The real-container paths
are in tests/stack/test_backup.py, test_retention_faults.py and test_restore_drill.py."""

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from procedures import runner
from procedures.backup import prune, remote_hashes
from procedures.backup.retention import remote_policy
from procedures.box import BackupBox
from procedures.errors import BackupError, CommandFailed
from procedures.remote import offsite, uploads_store
from procedures.sets import files, uploads_list, verify
from procedures.sets.names import Identity, set_name

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)
ID = Identity("zen", "prod", "zenops")


class Box(BackupBox):
    """A backup container that answers argv from a table (argv prefix -> stdout, or an exception) and
    records every argv it was asked to run."""

    def __init__(self, table: dict[tuple, object]):
        super().__init__("box")
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "asked", [])

    def run(self, argv, **_):
        self.asked.append(list(argv))
        for prefix in sorted(self.table, key=len, reverse=True):
            if tuple(argv[:len(prefix)]) == prefix:
                answer = self.table[prefix]
                if isinstance(answer, Exception):
                    raise answer
                return runner.Completed(list(argv), 0, answer(argv) if callable(answer) else answer, "", 0.0)
        raise AssertionError(f"unexpected command {argv}")


def failed(argv: list[str]) -> CommandFailed:
    return CommandFailed(argv, 3, "directory not found")


# Memos: a second ask in the same run does not run the command; a new run (box) asks again.

def test_a_question_is_asked_once_per_box_and_again_by_the_next_run():
    first = Box({("rclone", "config", "show"): "[c]\ntype = crypt\nremote = gdrive:enc\n"})
    assert first.ask_once(["rclone", "config", "show", "c"]) == first.ask_once(["rclone", "config", "show", "c"])
    assert first.asked == [["rclone", "config", "show", "c"]]
    second = Box({("rclone", "config", "show"): "[c]\ntype = crypt\nremote = gdrive:enc\n"})
    second.ask_once(["rclone", "config", "show", "c"])
    assert second.asked == [["rclone", "config", "show", "c"]]


def test_only_names_not_encoded_before_are_encoded():
    def encode(argv):
        return "".join(f"enc-{p.replace('/', '-')}\n" for p in argv[4:])
    box = Box({("rclone", "backend", "encode"): encode})
    assert remote_hashes.encoded_names(box, "c", ["f/a", "f/b"]) == ["enc-f-a", "enc-f-b"]
    assert remote_hashes.encoded_names(box, "c", ["f/b", "f/c"]) == ["enc-f-b", "enc-f-c"]
    assert box.asked == [["rclone", "backend", "encode", "c:", "f/a", "f/b"],
                         ["rclone", "backend", "encode", "c:", "f/c"]]


def test_encode_giving_fewer_names_than_asked_is_refused():
    box = Box({("rclone", "backend", "encode"): "only-one\n"})
    with pytest.raises(Exception, match="gave 1 names for 2 paths"):
        remote_hashes.encoded_names(box, "c", ["f/a", "f/b"])


def test_fingerprints_twice_in_a_run_ask_config_and_features_once():
    def encode(argv):
        return "".join(f"encdir/enc-{p.rsplit('/', 1)[-1]}\n" for p in argv[4:])

    def hashed(argv):
        names = [a[1:] for a in argv if a.startswith("/enc-")]
        return json.dumps([{"Name": n, "Hashes": {"md5": n}} for n in names])
    box = Box({("rclone", "config", "show"): "[c]\ntype = crypt\nremote = gdrive:enc\n",
               ("rclone", "backend", "encode"): encode,
               ("rclone", "backend", "features"): json.dumps({"Hashes": ["md5"]}),
               ("rclone", "lsjson"): hashed})
    status = offsite.RemoteStatus("c:ZenOpsBackups/prod", "crypt")
    first = remote_hashes.fingerprints(box, status, [offsite.RemoteFile("a.dump", 1, {})])
    again = remote_hashes.fingerprints(box, status, [offsite.RemoteFile("a.dump", 1, {}),
                                                     offsite.RemoteFile("b.dump", 2, {})])
    assert first["a.dump"].hash == again["a.dump"].hash == "md5:enc-a.dump"
    assert [a[:3] for a in box.asked] == [
        ["rclone", "config", "show"], ["rclone", "backend", "encode"], ["rclone", "backend", "features"],
        ["rclone", "lsjson", "--files-only"],
        ["rclone", "backend", "encode"], ["rclone", "lsjson", "--files-only"]]
    assert box.asked[4] == ["rclone", "backend", "encode", "c:", "ZenOpsBackups/prod/b.dump"]


# The remote: listed, not created, when it lists.

LISTREMOTES = ("rclone", "listremotes")


def test_a_remote_that_lists_is_not_created():
    box = Box({LISTREMOTES: "c: crypt\n", ("rclone", "lsjson"): json.dumps([{"Name": "a.dump", "Size": 3}])})
    status, listed = offsite.reach(box, "c:f")
    assert status == offsite.RemoteStatus("c:f", "crypt") and [f.name for f in listed] == ["a.dump"]
    assert box.asked == [["rclone", "listremotes", "--long"], ["rclone", "lsjson", "--files-only", "--hash", "c:f"]]


def test_a_listing_taken_this_run_is_not_taken_again():
    box = Box({LISTREMOTES: "c: crypt\n"})
    earlier = [offsite.RemoteFile("a.dump", 3, {})]
    assert offsite.reach(box, "c:f", earlier) == (offsite.RemoteStatus("c:f", "crypt"), earlier)
    assert box.asked == [["rclone", "listremotes", "--long"]]


def test_a_folder_that_does_not_list_is_created_then_listed():
    answers = iter([failed(["rclone", "lsjson"]), "[]"])

    def lsjson(argv):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer
    box = Box({LISTREMOTES: "c: crypt\n", ("rclone", "lsjson"): lsjson, ("rclone", "mkdir"): ""})
    assert offsite.reach(box, "c:f")[1] == []
    assert [a[:2] for a in box.asked] == [["rclone", "listremotes"], ["rclone", "lsjson"], ["rclone", "mkdir"],
                                          ["rclone", "lsjson"]]


def test_an_unreachable_remote_is_named_as_before():
    box = Box({LISTREMOTES: "c: crypt\n", ("rclone", "lsjson"): failed(["rclone", "lsjson"]),
               ("rclone", "mkdir"): failed(["rclone", "mkdir"])})
    with pytest.raises(Exception, match="remote c:f is unreachable: directory not found. Check the network"):
        offsite.reach(box, "c:f")


# No second listing after a pruning or collection that deleted nothing.

def test_a_remote_pruning_that_deletes_nothing_proves_with_the_listing_it_judged():
    listing = [offsite.RemoteFile(f"{set_name(ID, NOW - timedelta(days=d))}.{k}", 1, {})
               for d in (1, 2) for k in ("dump", "manifest.json")]
    box = Box({})
    remembered = {set_name(ID, NOW - timedelta(days=d)) for d in (1, 2)}
    result = prune.prune_remote(box, offsite.RemoteStatus("c:f", "crypt"), listing, ID, remote_policy(30), NOW,
                                remembered=remembered)
    assert box.asked == [] and result.deleted_files == []
    assert result.listing_after == [f.name for f in listing]


def test_a_remote_pruning_that_deletes_lists_again():
    old = [offsite.RemoteFile(f"{set_name(ID, NOW - timedelta(days=d))}.{k}", 1, {})
           for d in (1, 90) for k in ("dump", "manifest.json")]
    box = Box({("dd",): "", ("rclone", "delete"): "",
               ("rclone", "lsjson"): json.dumps([{"Name": f.name, "Size": 1} for f in old[:2]])})
    result = prune.prune_remote(box, offsite.RemoteStatus("c:f", "crypt"), old, ID, remote_policy(30), NOW,
                                remembered={set_name(ID, NOW - timedelta(days=d)) for d in (1, 90)})
    assert len(result.deleted_files) == 2
    assert box.asked[-1] == ["rclone", "lsjson", "--files-only", "--hash", "c:f"]


def test_a_local_collection_that_deletes_nothing_lists_the_store_once():
    box = Box({("mkdir",): "", ("find",): f"{NOW.timestamp()} ab/ab12\n"})
    done = uploads_store.collect_local(box, "/backups", "uploads-store/zen", [], NOW, timedelta(hours=48),
                                       read_local=lambda name: pytest.fail(f"no list to read, {name} read"))
    assert done.present_after == ["ab/ab12"] and done.deleted == []
    assert [a[0] for a in box.asked] == ["mkdir", "find"]


# One reading of a local set file per run.

def test_the_run_reads_a_local_set_file_once():
    from procedures.backup.pipeline import BackupRun
    box = Box({("cat",): '{"files": [], "skipped": []}'})
    run = BackupRun(ctx=type("Ctx", (), {"config": type("C", (), {"backup": type("B", (), {"directory": "/backups"})})}),
                    box=box, now=NOW, identity=ID, set_name="s")
    assert run.read_local("a.uploads.list.json") == run.read_local("a.uploads.list.json")
    assert box.asked == [["cat", "--", "/backups/a.uploads.list.json"]]


# Batching: whole argv.

def test_sizes_are_asked_in_one_stat():
    box = Box({("stat",): "10\n20\n"})
    assert files.sizes(box, ["/b/a.dump", "/b/a.list"]) == {"/b/a.dump": 10, "/b/a.list": 20}
    assert box.asked == [["stat", "--format=%s", "--", "/b/a.dump", "/b/a.list"]]


def test_a_written_set_is_checked_by_one_manifest_read_and_one_stat():
    written = {"dump": {"file": "s.dump", "size": 10}, "uploads": {"store": "x", "list": {"file": "s.list", "size": 5}},
               "paths": None}
    box = Box({("cat",): json.dumps(written), ("stat",): "10\n5\n"})
    assert verify.verify_written(box, "/b", "s", written) == written
    assert box.asked == [["cat", "--", "/b/s.manifest.json"], ["stat", "--format=%s", "--", "/b/s.dump", "/b/s.list"]]
    changed = Box({("cat",): json.dumps(written), ("stat",): "10\n6\n"})
    with pytest.raises(BackupError, match="/b/s.list has changed size"):
        verify.verify_written(changed, "/b", "s", written)


# An uploads list: checked against the bytes sent, and read once to be hashed and parsed.

WALKED = {"files": [{"path": "a", "size": 1, "sha256": "0" * 64, "mode": "644"}], "skipped": []}
TEXT = json.dumps(WALKED, indent=1, sort_keys=True)


def test_a_list_is_written_checksummed_and_renamed_without_a_stat():
    box = Box({("dd",): "", ("sha256sum",): hashlib.sha256(TEXT.encode()).hexdigest() + "  x\n", ("mv",): ""})
    entry = uploads_list.write(box, "/b/s.list", WALKED)
    assert entry["size"] == len(TEXT) and entry["sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()
    assert [a[0] for a in box.asked] == ["dd", "sha256sum", "mv"]


def test_a_list_that_reads_back_other_bytes_is_refused_before_its_rename():
    box = Box({("dd",): "", ("sha256sum",): "f" * 64 + "  x\n", ("mv",): ""})
    with pytest.raises(BackupError, match="differs from the list written"):
        uploads_list.write(box, "/b/s.list", WALKED)
    assert "mv" not in [a[0] for a in box.asked]


def test_a_recorded_list_is_read_once_and_refused_when_its_bytes_differ():
    box = Box({("cat",): TEXT})
    assert uploads_list.read(box, "/b/s.list", hashlib.sha256(TEXT.encode()).hexdigest()) == WALKED
    assert box.asked == [["cat", "--", "/b/s.list"]]
    with pytest.raises(BackupError, match="the uploads file list is corrupted"):
        uploads_list.read(Box({("cat",): TEXT + " "}), "/b/s.list", hashlib.sha256(TEXT.encode()).hexdigest())
