"""Deletions only by policy (issue 24, item 3) against the real stack, real rclone and the SFTP
stand-in remote: a clock 45 days ahead for ten nights, a fresh host with a wrong clock and a remote
full of sets, listings that hide files with exit 0, a truncated remote dump, rclone SIGKILLed
mid-upload, two hosts with one identity pruning at once. In each, the witness proves nothing the
policy keeps is lost."""

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from procedures import runner
from procedures.backup import pipeline as backup
from procedures.backup import prune, retention
from procedures.box import backup_box
from procedures.commands import files as files_cmd
from procedures.commands import rclone as rclone_cmd
from procedures.errors import OffsiteError, UnsafeOperation
from procedures.remote import offsite
from procedures.sets import names as backup_names
from procedures.sets.sets import identity_of

from testkit import witness
from testkit.backup_helpers import in_box, local_files, plant_aged_copy, remote_files, with_config, with_offsite

pytestmark = [pytest.mark.stack, pytest.mark.destructive]
LOCAL_AND_REMOTE_DAYS = (1, 3, 6, 10, 13)
REMOTE_ONLY_DAYS = (18, 22, 26)


@pytest.fixture(scope="module")
def history(backup_stack):
    """A month of history: sets 1 to 13 days old locally and offsite, 18 to 26 days old offsite only."""
    ctx = backup_stack.ctx
    seed = backup.backup(ctx)
    now = datetime.now(timezone.utc)
    for days in LOCAL_AND_REMOTE_DAYS + REMOTE_ONLY_DAYS:
        aged = backup_names.set_name(identity_of(ctx), now - timedelta(days=days, hours=1))
        plant_aged_copy(ctx, seed.set_name, aged, local=days in LOCAL_AND_REMOTE_DAYS, remote=True)
    backup.backup(ctx)  # keeps all of it, and the catalog in state_dir remembers what the remote holds
    return backup_stack


def remote_path(ctx) -> str:
    return ctx.config.offsite.path(ctx.config.stack.environment)


def our_sets(listing) -> set[str]:
    return set(backup_names.group_files(listing))


@pytest.mark.fault("clock 45 days ahead for ten nights")
def test_ten_nights_on_a_clock_45_days_ahead_delete_nothing(history):
    """Each night writes its set (the backup itself still happens) and refuses to prune; a set written
    on the wrong clock never becomes a reference, however many of them there are."""
    ctx = history.ctx
    before = witness.take(history)
    ahead = datetime.now(timezone.utc) + timedelta(days=45)
    for night in range(10):
        with pytest.raises(UnsafeOperation, match="not pruning: the clock may be ahead"):
            backup.backup(ctx, now=ahead + timedelta(days=night))
    witness.assert_intact(history, before)
    written = {backup_names.set_name(identity_of(ctx), ahead + timedelta(days=n)) for n in range(10)}
    assert written <= our_sets(local_files(ctx)), "the backups themselves were taken"
    kept = {v.set.name: v.reason for v in backup.backup(ctx).local.decision.keep}
    assert all(kept[name].startswith("taken after now") for name in written), "the real clock agrees again"


@pytest.mark.fault("fresh host with a wrong clock and a remote full of sets")
def test_a_fresh_host_with_a_wrong_clock_compares_with_the_remote(history, tmp_path):
    """An empty backups folder and no state_dir record: the remote's own sets are the reference."""
    ctx = history.ctx
    in_box(ctx, files_cmd.make_dir("/backups/fresh-host"))
    fresh = with_config(ctx, backup={"directory": "/backups/fresh-host"}, deploy={"state_dir": str(tmp_path)})
    before = witness.take(history)
    remote_before = our_sets(remote_files(ctx))
    with pytest.raises(UnsafeOperation, match="not pruning: the clock may be ahead.*after the newest earlier set"):
        backup.backup(fresh, now=datetime.now(timezone.utc) + timedelta(days=45))
    witness.assert_intact(history, before)
    assert remote_before <= our_sets(remote_files(ctx))


@pytest.mark.fault("fresh host (no catalog) with the right clock and a remote full of sets")
def test_a_fresh_host_defers_remote_pruning_once_then_prunes_only_what_the_policy_deletes(history, tmp_path):
    """An empty backups folder and state_dir, the clock right: the first run cannot tell a complete listing
    from a partial one, so it records the catalog and says why it did not prune; the next run prunes."""
    ctx = with_offsite(history.ctx, daily=0, weekly=0, fortnightly=0, monthly=0)
    seed = max(our_sets(local_files(ctx)))
    now = datetime.now(timezone.utc)
    expired = {backup_names.set_name(identity_of(ctx), now - timedelta(days=d, hours=2)) for d in (40, 45, 50)}
    for name in expired:
        plant_aged_copy(ctx, seed, name, local=False, remote=True)
    in_box(ctx, files_cmd.make_dir("/backups/fresh-host-2"))
    fresh = with_config(ctx, backup={"directory": "/backups/fresh-host-2"}, deploy={"state_dir": str(tmp_path)})
    before = witness.take(history)

    first = backup.backup(fresh)
    assert first.remote.deferred and "first run on this host" in first.remote.deferred
    assert first.remote.deleted_files == [] and first.remote_store.deleted == []
    witness.assert_intact(history, before)

    second = backup.backup(fresh)
    assert second.remote.deferred is None
    remaining = our_sets(remote_files(ctx))
    assert not expired & remaining, "the next run prunes what the policy deletes"
    assert before.remote_sets - expired <= remaining and first.set_name in remaining
    assert {v.set.name for v in second.remote.decision.delete} == expired


def tamper(ctx, name: str, how: str) -> None:
    """Rewrite one remote file through rclone: `short` keeps its first 100 bytes, `flipped` its size
    with its last byte changed."""
    change = {"short": "d = d[:100]", "flipped": "d[-1] ^= 1"}[how]
    in_box(ctx, ["sh", "-c", f'rclone cat "{remote_path(ctx)}/{name}" > /tmp/t && python3 -c "d = bytearray('
                             f"open('/tmp/t', 'rb').read()); {change}; open('/tmp/t', 'wb').write(d)\" && "
                             f'rclone rcat "{remote_path(ctx)}/{name}" < /tmp/t && rm /tmp/t'])


@pytest.mark.fault("a remote dump altered at the same size, its local file still there")
def test_a_remote_dump_altered_at_the_same_size_is_caught_by_its_hash_and_sent_again(history):
    ctx = history.ctx
    local, remote = local_files(ctx), remote_files(ctx)
    dump = sorted(n for n in local if n.endswith(".dump") and n in remote)[1]
    tamper(ctx, dump, "flipped")
    assert remote_files(ctx)[dump].size == local[dump], "the size alone cannot tell"
    before = witness.take(history)
    result = backup.backup(ctx)
    assert dump in result.uploaded, "sent again"
    checked = in_box(ctx, ["rclone", "cryptcheck", "--one-way", "--include", f"/{dump}", "/backups", remote_path(ctx)])
    assert "0 differences found" in checked.stderr, checked.stderr
    assert result.remote.unverified == []
    witness.assert_intact(history, before)


@pytest.mark.fault("a truncated remote dump of a set only the remote holds")
def test_a_truncated_remote_only_dump_is_reported_and_not_counted_as_verified(history):
    ctx = history.ctx
    past_local_window = datetime.now(timezone.utc) - timedelta(days=14)
    victim = max(n for n in our_sets(remote_files(ctx)) - our_sets(local_files(ctx))
                 if backup_names.parse_set_name(n).taken_at < past_local_window)  # what a floor would pick first
    tamper(ctx, f"{victim}.dump", "short")
    before = witness.take(history)
    for _ in range(2):  # the damage stays reported: nothing re-records the short copy as good
        result = backup.backup(ctx)
        assert result.remote.unverified == [victim]
        kept = {v.set.name: v.set.verified for v in result.remote.decision.keep}
        assert kept[victim] is False, "kept (within the policy) but never verified, so no floor counts it"
    assert remote_files(ctx)[f"{victim}.dump"].size == 100, "no local copy: nothing to send again"
    witness.assert_intact(history, before)


def hiding(monkeypatch, pattern: str) -> None:
    """Every `rclone lsjson` of the run hides files matching pattern and exits 0 (a wrapper, a partial
    Drive answer); copies, checks and deletions see everything."""
    real = rclone_cmd.lsjson
    monkeypatch.setattr(rclone_cmd, "lsjson", lambda path: [*real(path)[:-1], "--exclude", pattern, path])


@pytest.mark.fault("a remote listing that omits a set with exit 0")
def test_a_listing_that_hides_a_set_refuses_remote_pruning(history, monkeypatch):
    ctx = history.ctx
    hidden = sorted(our_sets(local_files(ctx)) & our_sets(remote_files(ctx)))[0]
    before = witness.take(history)
    hiding(monkeypatch, f"/{hidden}.*")
    with pytest.raises(UnsafeOperation, match=f"not pruning {remote_path(ctx)}: its listing lacks 1 sets.*{hidden}"):
        backup.backup(ctx)
    monkeypatch.undo()
    witness.assert_intact(history, before)


@pytest.mark.fault("a remote listing that omits a set only the remote holds, with exit 0")
def test_a_listing_that_hides_a_remote_only_set_is_caught_by_the_catalog(history, monkeypatch):
    ctx = history.ctx
    hidden = sorted(our_sets(remote_files(ctx)) - our_sets(local_files(ctx)))[0]
    before = witness.take(history)
    hiding(monkeypatch, f"/{hidden}.*")
    with pytest.raises(UnsafeOperation, match=f"lacks 1 sets it held after the last pruning here .*{hidden}"):
        backup.backup(ctx)
    monkeypatch.undo()
    witness.assert_intact(history, before)


@pytest.mark.fault("a remote listing that omits the sets' file lists with exit 0")
def test_a_listing_that_hides_the_file_lists_refuses_the_store_collection(history, monkeypatch):
    ctx = history.ctx
    before = witness.take(history)
    objects_before = witness.present_objects(ctx)[1]
    hiding(monkeypatch, "*.uploads.list.json")
    with pytest.raises(UnsafeOperation, match="not collecting the uploads store .*file list is not in the listing"):
        backup.backup(ctx)
    monkeypatch.undo()
    assert objects_before <= witness.present_objects(ctx)[1], "no remote object deleted"
    witness.assert_intact(history, before)


@pytest.mark.fault("a truncated remote dump")
def test_a_truncated_remote_dump_is_sent_again_not_counted_as_verified(history):
    ctx = history.ctx
    local, remote = local_files(ctx), remote_files(ctx)
    dump = sorted(n for n in local if n.endswith(".dump") and n in remote)[0]
    in_box(ctx, ["sh", "-c", f"head -c 100 /backups/{dump} | rclone rcat {remote_path(ctx)}/{dump}"])
    assert remote_files(ctx)[dump].size == 100
    before = witness.take(history)
    result = backup.backup(ctx)
    assert dump in result.uploaded, "sent again"
    assert remote_files(ctx)[dump].size == local[dump]
    checked = in_box(ctx, ["rclone", "cryptcheck", "--one-way", "--include", f"/{dump}", "/backups", remote_path(ctx)])
    assert "0 differences found" in checked.stderr, checked.stderr
    witness.assert_intact(history, before)


def _kill_rclone_copy_mid_upload(ctx, done: threading.Event, killed: list) -> None:
    """SIGKILL the `rclone copy` of the set files a few seconds into it (the copy is slowed to take a minute)."""
    prefix = f"{ctx.config.stack.project}-backup-"
    find = ("import os\nfor p in os.listdir('/proc'):\n if p.isdigit():\n  try: a = open(f'/proc/{p}/cmdline','rb')"
            ".read().split(b'\\0')\n  except OSError: continue\n  if a[0].endswith(b'rclone') and b'--no-traverse' in a:"
            " print(p)")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not done.is_set():
        for box in in_box_free(["docker", "ps", "--format", "{{.Names}}", "--filter", f"name={prefix}"]).split():
            pids = in_box_free(["docker", "exec", box, "python3", "-c", find]).split()
            if pids:
                time.sleep(6)  # some of the dump is on the remote, most of it not
                in_box_free(["docker", "exec", box, "sh", "-c", f"kill -KILL {' '.join(pids)}"])  # no kill binary
                killed.extend(pids)
                return
        time.sleep(0.3)


def in_box_free(argv: list[str]) -> str:
    """A docker command from the test's side (the killer's), its failure no error."""
    return runner.run(argv, limit="command", check=False).stdout


@pytest.mark.fault("rclone SIGKILLed mid-upload")
def test_rclone_killed_mid_upload_leaves_a_short_remote_dump_that_the_next_backup_sends_again(history, monkeypatch):
    ctx = history.ctx
    # A dump big enough, and a copy slow enough, for the kill to land mid-file.
    ctx.database.query("INSERT INTO notes (body) SELECT md5(random()::text) || md5(random()::text) "
                       "FROM generate_series(1, 40000)")
    before = witness.take(history)
    real_copy = rclone_cmd.copy_files
    monkeypatch.setattr(rclone_cmd, "copy_files", lambda *a: [*real_copy(*a)[:2], "--bwlimit", "24k", *real_copy(*a)[2:]])
    now = datetime.now(timezone.utc)
    dump = backup_names.set_name(identity_of(ctx), now) + ".dump"
    done, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_rclone_copy_mid_upload, args=(ctx, done, killed))
    killer.start()
    try:
        with pytest.raises(OffsiteError, match="offsite copy .* failed"):
            backup.backup(ctx, now=now)
    finally:
        done.set()
        killer.join()
    monkeypatch.undo()
    assert killed, "rclone was killed mid-upload"
    local, remote = local_files(ctx), remote_files(ctx)
    # SFTP (like Drive's resumable uploads, once finished) writes under the final name: a short copy stays.
    assert dump not in remote or remote[dump].size < local[dump], "the kill left no whole dump offsite"
    result = backup.backup(ctx)
    assert dump in result.uploaded and remote_files(ctx)[dump].size == local[dump]
    witness.assert_intact(history, before)


@pytest.mark.fault("two hosts with one identity pruning at once")
def test_two_hosts_with_one_identity_pruning_at_once_lose_nothing_the_policy_keeps(history):
    """Each host has its own lock; both decide on the same listing and delete at the same moment."""
    ctx = with_offsite(history.ctx, daily=0, weekly=0, fortnightly=0, monthly=0)
    before = witness.take(history)
    seed = max(our_sets(local_files(ctx)))
    now = datetime.now(timezone.utc)
    expired = {backup_names.set_name(identity_of(ctx), now - timedelta(days=d)) for d in (60, 61, 62)}
    for name in expired:
        plant_aged_copy(ctx, seed, name, local=False, remote=True)
    policy, limits = retention.remote_policy(ctx.config.offsite.keep_days), prune.Limits(3, 10, False)
    barrier, results, errors = threading.Barrier(2), {}, []

    # One backup container stands in for both hosts (a second would remove the first as a leftover):
    # what they share is the remote, and each host's rclone runs on its own, at the same moment.
    def host(i: int, box, status) -> None:
        try:
            listing = offsite.list_remote(box, status.path)
            barrier.wait(timeout=120)
            results[i] = prune.prune_remote(box, status, listing, identity_of(ctx), policy, now, limits)
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    with backup_box(ctx) as box:
        status, _ = offsite.reach(box, remote_path(ctx))
        hosts = [threading.Thread(target=host, args=(i, box, status)) for i in range(2)]
        for t in hosts:
            t.start()
        for t in hosts:
            t.join()
    assert not errors, errors
    assert results[0].decision == results[1].decision
    remaining = our_sets(remote_files(ctx))
    assert results[0].expected_sets <= remaining and not expired & remaining
    witness.assert_intact(history, before)
    assert json.loads(in_box(ctx, ["rclone", "size", "--json", remote_path(ctx)]).stdout)["count"] > 0
