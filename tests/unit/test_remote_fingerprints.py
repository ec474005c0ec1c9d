"""A fresh host's first remote pruning waits for a catalog, and remote copies are verified by the
backend's own hash recorded when they were known good (issue 24, item 3, review gaps): the pure
parts. The real-rclone paths are in tests/stack/test_retention_faults.py."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from procedures.backup import catalog, prune, remote_hashes
from procedures.backup.remote_hashes import Fingerprint
from procedures.backup.retention import remote_policy
from procedures.commands import rclone as rclone_cmd
from procedures.remote import offsite
from procedures.sets.names import Identity, set_name

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)
ID = Identity("zen", "prod", "zenops")


def files_of(days: range) -> list[offsite.RemoteFile]:
    return [offsite.RemoteFile(f"{set_name(ID, NOW - timedelta(days=d))}.{kind}", 100, {})
            for d in days for kind in ("dump", "manifest.json")]


class NoDeletions:
    """A box that must never be asked to delete (or list) anything."""

    def run(self, argv, **_):
        raise AssertionError(f"ran {argv}")


# A fresh host.

def test_a_host_that_never_recorded_the_remote_defers_pruning_and_says_why():
    listing = files_of(range(1, 80, 3))  # 27 sets, many past 30 days
    result = prune.prune_remote(NoDeletions(), offsite.RemoteStatus("r:x", "crypt"), listing, ID,
                                remote_policy(30), NOW, remembered=None)
    assert result.deleted_files == [] and result.decision.delete == ()
    assert result.sets_after == result.expected_sets and len(result.sets_after) == 27
    assert result.deferred.startswith("first run on this host with sets already on the remote (27 this host never saw")
    assert "the next run prunes" in result.deferred


def test_first_sight_waits_only_for_sets_this_run_did_not_check():
    assert catalog.first_sight({"a", "b"}, None, {"a"}).startswith("first run on this host")
    assert catalog.first_sight({"a"}, None, {"a"}) is None, "an empty remote before this run: nothing unknown"
    assert catalog.first_sight({"a", "b"}, set(), {"a"}) is None, "recorded (even empty): compare as usual"


def test_recorded_tells_never_from_empty(tmp_path):
    assert catalog.recorded(str(tmp_path), ID, "r:x") is None
    catalog.record(str(tmp_path), ID, "r:x", set())
    assert catalog.recorded(str(tmp_path), ID, "r:x") == set()


# Fingerprints.

def test_the_preferred_hash_is_picked_the_same_way_every_time():
    assert remote_hashes.pick({"sha1": "b", "md5": "a", "crc32": "c"}) == "md5:a"
    assert remote_hashes.pick({"quickxor": "q"}) == "quickxor:q"
    assert remote_hashes.pick({"md5": ""}) is None and remote_hashes.pick({}) is None


def test_another_size_or_another_hash_of_the_same_type_disagrees():
    recorded = {"a": Fingerprint(10, "md5:1"), "b": Fingerprint(10, "md5:2"), "c": Fingerprint(10, "md5:3"),
                "d": Fingerprint(10, None), "e": Fingerprint(10, "md5:5")}
    current = {"a": Fingerprint(10, "md5:1"), "b": Fingerprint(9, "md5:2"), "c": Fingerprint(10, "md5:x"),
               "d": Fingerprint(10, "md5:4"), "e": Fingerprint(10, "sha1:5"), "new": Fingerprint(1, None)}
    assert remote_hashes.disagreeing(recorded, current) == ["b", "c"]


def test_fingerprints_are_kept_per_identity_and_place(tmp_path):
    state_dir = str(tmp_path)
    prints = {"s.dump": Fingerprint(12, "md5:ab"), "s.manifest.json": Fingerprint(3, None)}
    catalog.record_fingerprints(state_dir, ID, "r:a", prints)
    assert catalog.fingerprints(state_dir, ID, "r:a") == prints
    assert catalog.fingerprints(state_dir, ID, "r:b") == {}
    assert catalog.fingerprints(state_dir, Identity("zen", "staging", "zenops"), "r:a") == {}


def test_a_damaged_remote_only_set_is_not_verified_and_never_counts_toward_the_floor():
    """Sets 40..44 days old, all past the window: the floor of 2 keeps the newest two verified ones; the
    newest is damaged, so the floor keeps the next two instead and the damaged one is not among them."""
    listing = files_of(range(40, 45))
    damaged = set_name(ID, NOW - timedelta(days=40))

    class Deleting:
        def __init__(self):
            self.deleted = []

        def run(self, argv, input_text=None, **_):
            if argv[:2] == ["rclone", "lsjson"]:
                gone = {n.strip() for n in self.deleted}
                return type("Done", (), {"stdout": json.dumps(
                    [{"Name": f.name, "Size": f.size} for f in listing if f.name not in gone])})()
            if input_text:
                self.deleted += input_text.splitlines()
            return type("Done", (), {"stdout": ""})()

    box = Deleting()
    result = prune.prune_remote(box, offsite.RemoteStatus("r:x", "crypt"), listing, ID, remote_policy(30), NOW,
                                prune.Limits(2), remembered=set(), damaged={damaged})
    kept = {v.set.name: v for v in result.decision.keep}
    assert result.unverified == [damaged]
    assert damaged not in kept and sum(1 for v in kept.values() if v.set.verified) == 2


def test_a_crypt_remote_names_the_remote_it_wraps_and_nothing_else():
    section = "[gdrive-crypt]\ntype = crypt\nremote = gdrive:encrypted\npassword = OBSCURED\n"
    assert remote_hashes.wrapped_remote(section) == "gdrive:encrypted"
    assert remote_hashes.wrapped_remote("[x]\ntype = crypt\n") is None
    assert remote_hashes.join("gdrive:encrypted", "a/b") == "gdrive:encrypted/a/b"
    assert remote_hashes.join("gdrive:", "a/b") == "gdrive:a/b"


def test_the_crypt_commands_are_whole():
    assert rclone_cmd.config_show("gdrive-crypt") == ["rclone", "config", "show", "gdrive-crypt"]
    assert rclone_cmd.crypt_encode("gdrive-crypt", ["z/p/a.dump"]) == [
        "rclone", "backend", "encode", "gdrive-crypt:", "z/p/a.dump"]


def test_a_damaged_copy_with_a_local_file_is_sent_again_even_at_the_same_size():
    sent = []

    class Box:
        def run(self, argv, **_):
            sent.append(argv)
            return type("Done", (), {"stdout": ""})()

    class Transfer:
        step = "upload"

        def copy(self, box, what, argv):
            sent.append(argv)

    again = offsite.upload(Box(), "/backups", offsite.RemoteStatus("r:x", "crypt"), ["a.dump", "b.dump"],
                           [], {"a.dump": 5, "b.dump": 5}, Transfer(), {"a.dump": 5, "b.dump": 5},
                           resend=["a.dump", "gone.dump"])
    assert again == ["a.dump"]
    assert "--ignore-times" in sent[0] and ["--include", "/a.dump"] == sent[0][-4:-2]
