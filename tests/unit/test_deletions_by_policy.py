"""Deletions only by policy (issue 24, item 3), the pure parts: the minimum-redundancy floor, the
per-run cap, the clock's references and its "none trusted" verdict, the last trusted time in
state_dir, the store's kept lists and grace period, remote copies at the wrong size, the
[retention] settings. The real-rclone paths are in tests/stack/test_retention_faults.py."""

import json
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest

from procedures.backup import catalog, clock, clock_state, prune
from procedures.backup.retention import check_cap, decide, local_policy, remote_policy
from procedures.commands import rclone as rclone_cmd
from procedures.load import load_config
from procedures.errors import ConfigError, UnsafeOperation
from procedures.remote import offsite, uploads_store
from procedures.sets.names import Identity, set_name
from procedures.sets.sets import BackupSet

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)
GAP = timedelta(hours=48)
ID = Identity("zen", "prod", "zenops")


def nightly(count: int, now: datetime = NOW, start: int = 1) -> list[BackupSet]:
    return [BackupSet(set_name(ID, now - timedelta(days=d)), now - timedelta(days=d), True)
            for d in range(start, start + count)]


class ManifestShelf:
    """Stands in for the backup container's manifest reads (pure logic only)."""

    def __init__(self, verdicts: dict[str, str]):
        self.verdicts = verdicts
        self.reads = 0

    def run(self, argv, **_):
        self.reads += 1
        name = argv[-1].rsplit("/", 1)[-1].removesuffix(".manifest.json")
        return type("Done", (), {"stdout": json.dumps({"clock": self.verdicts.get(name, clock.AGREED)})})()


# The minimum-redundancy floor and the cap.

def test_the_floor_keeps_the_newest_verified_sets_a_short_policy_would_delete():
    history = nightly(5, start=40)  # all older than 30 days: the window alone keeps only the newest
    decision = decide(history, remote_policy(30), NOW, min_sets=3)
    kept = {v.set.name: v.reason for v in decision.keep}
    assert [v.set for v in decision.keep] == history[:3]
    assert kept[history[1].name] == kept[history[2].name] == "minimum-redundancy floor: min_sets = 3"
    assert [v.set for v in decision.delete] == history[3:]


def test_the_floor_counts_only_verified_sets():
    history = [BackupSet("a", NOW - timedelta(days=40), True), BackupSet("b", NOW - timedelta(days=41), False),
               BackupSet("c", NOW - timedelta(days=42), True)]
    decision = decide(history, remote_policy(30), NOW, min_sets=2)
    assert {v.set.name for v in decision.keep} == {"a", "c"} and [v.set.name for v in decision.delete] == ["b"]


def test_the_floor_changes_nothing_when_the_policy_keeps_enough():
    history = nightly(20)
    assert decide(history, local_policy(14), NOW, min_sets=3) == decide(history, local_policy(14), NOW)


def test_a_typo_in_keep_days_is_stopped_by_the_cap_naming_the_key_and_the_flag():
    """keep_days = 3 where 30 was meant: 27 deletions in one night, refused."""
    decision = decide(nightly(30), remote_policy(3), NOW, min_sets=3)
    assert len(decision.delete) == 27
    with pytest.raises(UnsafeOperation, match=r"max_deletions_per_run = 10.*--allow-mass-prune.*Nothing was deleted"):
        check_cap(decision, "gdrive:x/prod", 10, allowed=False)
    check_cap(decision, "gdrive:x/prod", 10, allowed=True)
    check_cap(decide(nightly(30), remote_policy(25), NOW), "gdrive:x/prod", 10, allowed=False)


def test_prune_refuses_over_the_cap_before_deleting(monkeypatch):
    names = [f"{s.name}.{kind}" for s in nightly(30) for kind in ("dump", "manifest.json")]
    with pytest.raises(UnsafeOperation, match="max_deletions_per_run"):
        prune._doomed(names, ID, local_policy(14), NOW, prune.Limits(3, 5, False), "/backups")
    decision, doomed = prune._doomed(names, ID, local_policy(14), NOW, prune.Limits(3, 5, True), "/backups")
    assert len(decision.delete) == 16 and len(doomed) == 32


def test_a_remote_set_at_the_wrong_size_is_not_verified_so_it_cannot_be_the_one_kept():
    names = [f"{s.name}.{kind}" for s in nightly(3, start=40) for kind in ("dump", "manifest.json")]
    newest = nightly(1, start=40)[0].name
    decision, _ = prune._doomed(names, ID, remote_policy(30), NOW, prune.Limits(1), "r:x", {newest})
    kept = {v.set.name: v.reason for v in decision.keep}
    assert newest not in kept and kept[nightly(1, start=41)[0].name] == "newest verified backup"


def test_a_partial_listing_is_named_and_refused():
    listing = [f"{s.name}.{kind}" for s in nightly(3) for kind in ("dump", "manifest.json")]
    hidden = set_name(ID, NOW - timedelta(days=9))
    assert prune.missing_from(listing, {hidden, nightly(1)[0].name}, ID) == [hidden]
    with pytest.raises(UnsafeOperation, match=f"lacks 1 sets .*{hidden}.*nothing was deleted"):
        prune._refuse_partial("r:x", [hidden], "this run uploaded")


def test_a_remembered_set_the_policy_still_keeps_and_the_listing_lacks_is_missed():
    """A set only the remote holds (past the local window), hidden by the listing: the catalog of the
    last pruning names it; one the policy deletes today (another host pruned it) is not missed."""
    history = nightly(25)
    hidden, expired = history[20], BackupSet(set_name(ID, NOW - timedelta(days=45)), NOW - timedelta(days=45), True)
    listed = [s for s in history if s != hidden]
    remembered = {s.name for s in history} | {expired.name}
    assert catalog.missing_but_kept(listed, remembered, remote_policy(30), NOW, 3) == [hidden.name]
    assert catalog.missing_but_kept(history, remembered, remote_policy(30), NOW, 3) == []


def test_the_catalog_is_kept_per_identity_and_place(tmp_path):
    state_dir = str(tmp_path)
    assert catalog.remembered(state_dir, ID, "r:a") == set()
    catalog.record(state_dir, ID, "r:a", {"s1", "s2"})
    catalog.record(state_dir, ID, "r:b", {"s3"})
    assert catalog.remembered(state_dir, ID, "r:a") == {"s1", "s2"}
    assert catalog.remembered(state_dir, Identity("zen", "staging", "zenops"), "r:a") == set()
    assert stat.S_IMODE(os.stat(tmp_path / "zen" / catalog.FILE).st_mode) == 0o600


# The clock.

def test_earlier_sets_none_trusted_is_a_disagreement_not_a_first_backup():
    check = clock.judge(NOW, None, GAP, accepted=False, earlier_exist=True)
    assert not check.trusted and "none was written on a clock that agreed" in check.reason
    assert "--accept-clock" in check.reason
    assert clock.judge(NOW, None, GAP, accepted=True, earlier_exist=True).verdict == clock.ACCEPTED
    assert clock.judge(NOW, None, GAP, accepted=False, earlier_exist=False).verdict == clock.FIRST


def test_ten_nights_45_days_ahead_are_all_refused():
    """The issue's case: after five nights on the wrong clock, the five newest manifests all say
    "disagreed"; the check used to stop reading there and call it a first backup."""
    real = nightly(14)
    verdicts: dict[str, str] = {}
    written: list[BackupSet] = []
    for night in range(10):
        now = NOW + timedelta(days=45 + night)
        shelf = ManifestShelf(verdicts)
        earlier = real + written
        check = clock.judge(now, clock.newest_trusted(shelf, "/backups", earlier), GAP, accepted=False,
                            earlier_exist=any(s.verified for s in earlier))
        assert not check.trusted, f"night {night + 1}: {check.reason}"
        assert check.reference_set in (real[0].name, None) and "ahead" in check.reason
        tonight = BackupSet(set_name(ID, now), now, True)
        verdicts[tonight.name] = check.verdict
        written.append(tonight)


def test_no_local_set_but_the_state_file_or_the_remote_is_a_reference():
    remote = nightly(30)
    ahead = NOW + timedelta(days=45)
    shelf = ManifestShelf({})
    reference = clock.newest(clock.newest_trusted(shelf, "/backups", []), None,
                             clock.newest_trusted(shelf, "/backups", remote))
    assert reference == (remote[0].name, remote[0].taken_at)
    assert not clock.judge(ahead, reference, GAP, accepted=False, earlier_exist=True).trusted
    state = ("state", NOW - timedelta(hours=20))
    assert clock.newest(None, state, None) == state
    assert clock.newest(reference, state) == state  # the newer of the two


def test_the_last_trusted_time_is_kept_private_and_never_goes_back(tmp_path):
    state_dir = str(tmp_path / "state")
    assert clock_state.last_trusted(state_dir, ID) is None
    clock_state.record(state_dir, ID, "s2", NOW)
    clock_state.record(state_dir, ID, "s1", NOW - timedelta(days=1))
    assert clock_state.last_trusted(state_dir, ID) == ("s2", NOW)
    other = Identity("zen", "staging", "zenops")
    assert clock_state.last_trusted(state_dir, other) is None
    path = tmp_path / "state" / "zen" / clock_state.FILE
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not list(path.parent.glob("*.partial"))


# The uploads store.

def store_set(days: int) -> str:
    return set_name(ID, NOW - timedelta(days=days))


def test_the_store_keeps_the_lists_of_the_sets_retention_keeps_and_of_other_stacks():
    kept, deleted = store_set(1), store_set(40)
    neighbour = set_name(Identity("zen", "staging", "zenops"), NOW)
    listing = [f"{n}.{k}" for n in (kept, deleted, neighbour) for k in ("dump", "manifest.json", "uploads.list.json")]
    lists = uploads_store.kept_lists({kept}, listing, ID, lambda n: pytest.fail("no manifest needed"), "/backups")
    assert lists == sorted([f"{kept}.uploads.list.json", f"{neighbour}.uploads.list.json"])


def test_a_kept_set_whose_list_is_missing_refuses_collection():
    kept = store_set(1)
    listing = [f"{kept}.dump", f"{kept}.manifest.json"]  # a listing that dropped the list
    with pytest.raises(UnsafeOperation, match=f"kept set {kept} keeps its uploads in the store but its file list"):
        uploads_store.kept_lists({kept}, listing, ID, lambda n: {"uploads": {"store": "x", "objects": 3}}, "r:x")

    def unreadable(name):
        raise ValueError("not JSON")
    with pytest.raises(UnsafeOperation, match="manifest cannot be read"):
        uploads_store.kept_lists({kept}, listing, ID, unreadable, "r:x")
    # A set without uploads, or with a tar.gz, references no object.
    assert uploads_store.kept_lists({kept}, listing, ID, lambda n: {"uploads": None}, "r:x") == []
    assert uploads_store.kept_lists({kept}, listing, ID, lambda n: {"uploads": {"file": "t.tar.gz"}}, "r:x") == []


def test_young_objects_are_never_collected():
    aged = {"ab/old": (NOW - timedelta(hours=49)).timestamp(), "cd/new": (NOW - timedelta(hours=47)).timestamp()}
    assert uploads_store.young(aged, NOW, timedelta(hours=48)) == {"cd/new"}
    assert uploads_store._unix("2026-11-27T02:30:00.123456789Z") == pytest.approx(NOW.timestamp() + 0.123456)


# Remote copies, deletions and Drive's trash.

def test_a_remote_copy_at_another_size_is_sent_again():
    local = {"a.dump": 100, "a.manifest.json": 10, "b.dump": 50}
    present = {"a.dump": 40, "a.manifest.json": 10}
    assert offsite.stale(local, present, ["a.dump", "a.manifest.json", "b.dump"]) == ["a.dump"]


def test_deletions_go_through_one_idempotent_rclone_delete_and_keep_drives_trash():
    assert rclone_cmd.delete_files("r:x", "/tmp/d") == ["rclone", "delete", "--files-from-raw", "/tmp/d", "r:x"]
    source = open(rclone_cmd.__file__).read()
    assert "--drive-use-trash=false" not in source.replace("No --drive-use-trash=false", "")


# [retention] settings.

def write(tmp_path, body: str):
    (tmp_path / "a.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n' + body)
    return path


def test_retention_defaults(tmp_path):
    config = load_config(write(tmp_path, ""))
    assert (config.retention.min_sets, config.retention.max_deletions_per_run,
            config.retention.store_grace_hours) == (3, 10, 48.0)
    config = load_config(write(tmp_path, "[retention]\nmin_sets = 5\nmax_deletions_per_run = 40\n"))
    assert (config.retention.min_sets, config.retention.max_deletions_per_run) == (5, 40)


@pytest.mark.parametrize("body, message", [
    ("min_sets = 0", r"\[retention\] min_sets = 0: expected a whole number, 1 or more; e.g. min_sets = 3 \(the default\)"),
    ("min_sets = 2.5", r"\[retention\] min_sets = 2.5: expected a whole number"),
    ("max_deletions_per_run = 0", r"\[retention\] max_deletions_per_run = 0: expected .* = 10 \(the default\)"),
    ("store_grace_hours = 0", r"\[retention\] store_grace_hours = 0: expected a number, 1 or more"),
    ("keep_days = 3", r"\[retention\] keep_days is not a setting of \[retention\]: remove it; the known ones are min_sets"),
])
def test_bad_retention_settings_name_the_key_and_the_fix(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, f"[retention]\n{body}\n"))
