"""The uploads store against the real stack: a second backup with unchanged uploads adds no object
locally or offsite, a changed file adds exactly one, retention's garbage collection removes what no
kept list references and keeps the rest, and the drill rebuilds the uploads from list and store.
Faults: a copy killed mid-object (locally and offsite), the remote gone before the collection."""

import hashlib
import json
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from procedures.backup import pipeline as backup
from procedures.commands import files as files_cmd
from procedures.errors import CommandFailed, OffsiteError, RestoreError, UnsafeOperation
from procedures.remote import uploads_store
from procedures.restore import drill
from procedures.sets import names

from testkit import witness
from testkit.backup_helpers import impatient, in_box, manifest_of, plant_aged_copy

pytestmark = [pytest.mark.stack, pytest.mark.destructive]

UPLOADS = {"report.pdf": b"%PDF-1.7 quarterly report", "photo.jpg": b"\xff\xd8\xff" + bytes(range(256)) * 40,
           "notes.txt": b"keep me", "copy-of-notes.txt": b"keep me"}
ORPHAN = "ee/ee" + "0" * 62


def put(ctx, name: str, content: bytes) -> None:
    assert httpx.put(f"{ctx.config.http.base_url}/uploads/{name}", content=content).status_code == 201


def store_paths(ctx) -> tuple[str, str]:
    store = uploads_store.store_dir(ctx.config.stack.project)
    return f"{ctx.config.backup.directory}/{store}", f"{ctx.config.offsite.path(ctx.config.stack.environment)}/{store}"


def objects(ctx) -> tuple[set[str], set[str]]:
    local, remote = store_paths(ctx)
    return (set(in_box(ctx, files_cmd.store_listing(local)).stdout.split()),
            set(in_box(ctx, ["rclone", "lsf", "--recursive", "--files-only", remote]).stdout.split()))


def past_grace(ctx) -> int:
    """A modification time (unix seconds) older than [retention] store_grace_hours."""
    return int(time.time() - ctx.config.retention.store_grace_hours * 3600 - 3600)


def plant_orphan(ctx, *, old: bool = True) -> None:
    """An object no set references, in both stores; past the grace period unless old is false
    (rclone copies keep the modification time, so both copies are as old)."""
    local_store, remote_store = store_paths(ctx)
    stamp = f" && touch -d @{past_grace(ctx)} {local_store}/{ORPHAN}" if old else ""
    in_box(ctx, ["sh", "-c", f"mkdir -p {local_store}/ee && printf orphan > {local_store}/{ORPHAN}{stamp}"])
    in_box(ctx, ["rclone", "copyto", f"{local_store}/{ORPHAN}", f"{remote_store}/{ORPHAN}"])


@pytest.fixture(scope="module")
def stored(backup_stack):
    ctx = backup_stack.ctx
    assert httpx.post(f"{ctx.config.http.base_url}/notes", json={"body": "a note the drill's sample query finds"}
                      ).status_code == 201
    for name, content in UPLOADS.items():
        put(ctx, name, content)
    first = backup.backup(ctx)
    return backup_stack, first


def test_the_first_backup_stores_each_distinct_file_once_and_the_set_holds_only_its_list(stored):
    stack, first = stored
    local, remote = objects(stack.ctx)
    assert len(local) == len(set(UPLOADS.values())) and remote == local
    recorded = manifest_of(stack.ctx, first.set_name)["uploads"]
    assert "file" not in recorded and recorded["store"] == uploads_store.store_dir(stack.ctx.config.stack.project)
    assert not [n for n in first.uploaded if n.endswith(".uploads.tar.gz")]


def test_a_second_unchanged_backup_adds_no_object_locally_or_offsite(stored):
    stack, _ = stored
    before = objects(stack.ctx)
    second = backup.backup(stack.ctx)
    assert manifest_of(stack.ctx, second.set_name)["uploads"]["new_objects"] == 0
    assert objects(stack.ctx) == before


def test_a_changed_file_adds_exactly_one_object(stored):
    stack, _ = stored
    local_before, remote_before = objects(stack.ctx)
    put(stack.ctx, "notes.txt", b"rewritten")
    third = backup.backup(stack.ctx)
    local, remote = objects(stack.ctx)
    assert manifest_of(stack.ctx, third.set_name)["uploads"]["new_objects"] == 1
    assert local - local_before == remote - remote_before == {uploads_store.object_name(
        hashlib.sha256(b"rewritten").hexdigest())}
    assert local_before <= local, "the old content is still referenced by kept sets"


def test_garbage_collection_removes_unreferenced_objects_and_keeps_referenced_ones(stored):
    stack, _ = stored
    local_store, remote_store = store_paths(stack.ctx)
    plant_orphan(stack.ctx)
    referenced_before = {o for o in objects(stack.ctx)[0] if o != ORPHAN}
    result = backup.backup(stack.ctx)
    local, remote = objects(stack.ctx)
    assert ORPHAN not in local and ORPHAN not in remote
    assert referenced_before <= local and referenced_before <= remote
    assert result.local_store.deleted == result.remote_store.deleted == [ORPHAN]
    assert result.local_store.missing_after == result.remote_store.missing_after == []


def test_an_unreferenced_object_younger_than_the_grace_period_is_never_collected(stored):
    """A set being written, or one a listing failed to show, may still need a young object."""
    stack, _ = stored
    plant_orphan(stack.ctx, old=False)
    result = backup.backup(stack.ctx)
    assert ORPHAN not in result.local_store.deleted and ORPHAN not in result.remote_store.deleted
    assert result.local_store.young >= 1 and result.remote_store.young >= 1
    local, remote = objects(stack.ctx)
    assert ORPHAN in local and ORPHAN in remote
    in_box(stack.ctx, files_cmd.remove([f"{store_paths(stack.ctx)[0]}/{ORPHAN}"]))  # the next tests plant it anew


def test_retention_that_prunes_a_set_collects_the_objects_only_it_referenced(stored):
    stack, first = stored
    ctx = stack.ctx
    local_store, _ = store_paths(ctx)
    aged = names.set_name(names.parse_set_name(first.set_name).identity,
                          datetime.now(timezone.utc) - timedelta(days=400))
    gone = b"only the aged set had this"
    digest = hashlib.sha256(gone).hexdigest()
    plant_aged_copy(ctx, first.set_name, aged, local=True, remote=False)
    # Tiers keep the newest set of the latest days that have one: a newer aged set fills the second daily slot.
    filler = names.set_name(names.parse_set_name(first.set_name).identity,
                            datetime.now(timezone.utc) - timedelta(days=300))
    plant_aged_copy(ctx, first.set_name, filler, local=True, remote=False)
    listed = {"files": [{"path": "gone.txt", "size": len(gone), "sha256": digest, "mode": "0644"}], "skipped": []}
    in_box(ctx, files_cmd.write_stdin_to(f"/backups/{aged}.uploads.list.json"), input_text=json.dumps(listed))
    in_box(ctx, ["sh", "-c", f"mkdir -p {local_store}/{digest[:2]} && cat > {local_store}/{digest[:2]}/{digest}"
                             f" && touch -d @{past_grace(ctx)} {local_store}/{digest[:2]}/{digest}"],
           input_text=gone.decode())
    assert uploads_store.object_name(digest) in objects(ctx)[0]
    result = backup.backup(ctx)
    assert aged in {v.set.name for v in result.local.decision.delete}
    assert uploads_store.object_name(digest) in result.local_store.deleted
    assert uploads_store.object_name(digest) not in objects(ctx)[0]
    assert result.local_store.missing_after == []


def test_the_drill_rebuilds_the_uploads_from_list_and_store(stored):
    stack, _ = stored
    run = drill.restore(stack.ctx)
    found = run.record["uploads"]
    assert (found["missing"], found["extra"], found["differing"]) == ([], [], [])
    assert found["restored"]["files"] == len(UPLOADS)
    assert found["store_objects_absent"] == found["store_objects_corrupt"] == []


def test_the_drill_from_the_remote_fetches_the_sets_objects_into_its_own_folder(stored):
    stack, _ = stored
    local_before = objects(stack.ctx)[0]
    run = drill.restore(stack.ctx, drill.RestoreOptions(from_remote=True))
    found = run.record["uploads"]
    assert (found["missing"], found["extra"], found["differing"]) == ([], [], [])
    assert found["restored"]["files"] == len(UPLOADS)
    assert objects(stack.ctx)[0] == local_before, "a restore never writes the local store"


def test_the_drill_names_a_file_whose_store_object_rotted(stored):
    stack, _ = stored
    local_store, _ = store_paths(stack.ctx)
    target = f"{local_store}/{uploads_store.object_name(hashlib.sha256(b'keep me').hexdigest())}"
    in_box(stack.ctx, ["sh", "-c", f"cp {target} /backups/kept-object && printf rot > {target}"])
    try:
        with pytest.raises(RestoreError) as refused:
            drill.restore(stack.ctx)
        # notes.txt was rewritten earlier: only its copy still holds the rotted content
        assert "1 differing: copy-of-notes.txt" in str(refused.value)
    finally:
        in_box(stack.ctx, ["mv", "/backups/kept-object", target])


@pytest.mark.fault("uploads store copy killed mid-copy: a stale .partial object locally")
def test_a_copy_killed_mid_object_leaves_only_a_partial_that_the_next_backup_replaces_and_collects(stored):
    """The store writes <hash>.partial and renames it when whole, so a killed copy leaves only the
    partial (planted here as the kill leaves it): the next backup copies the object again, and
    retention's collection removes a stale partial no set needs."""
    stack, _ = stored
    ctx = stack.ctx
    local_store, _ = store_paths(ctx)
    content = b"an upload whose copy was killed " * 1000
    digest = hashlib.sha256(content).hexdigest()
    stale = "ab/ab" + "1" * 62 + ".partial"
    in_box(ctx, ["sh", "-c", f"mkdir -p {local_store}/{digest[:2]} {local_store}/ab && "
                             f"head -c 100 > {local_store}/{digest[:2]}/{digest}.partial && "
                             f"printf half > {local_store}/{stale} && "
                             f"touch -d @{past_grace(ctx)} {local_store}/{stale}"], input_text=content.decode())
    put(ctx, "killed.bin", content)
    before = witness.take(stack)
    result = backup.backup(ctx)
    local, remote = objects(ctx)
    assert uploads_store.object_name(digest) in local and uploads_store.object_name(digest) in remote
    assert not [o for o in local if o.endswith(".partial")], "no partial left under any name"
    assert stale in result.local_store.deleted
    stored_copy = in_box(ctx, ["sha256sum", f"{local_store}/{uploads_store.object_name(digest)}"]).stdout.split()[0]
    assert stored_copy == digest
    witness.assert_intact(stack, before)


@pytest.mark.fault("uploads store upload killed mid-copy: a short object offsite under its final name")
def test_a_short_object_offsite_is_sent_again_not_kept(stored):
    """A backend that writes under the final name keeps what an interrupted upload sent: the next
    backup's copy sees the other size and sends the object again; the check then passes."""
    stack, _ = stored
    ctx = stack.ctx
    local_store, remote_store = store_paths(ctx)
    name = uploads_store.object_name(hashlib.sha256(UPLOADS["photo.jpg"]).hexdigest())
    in_box(ctx, ["sh", "-c", f"head -c 50 {local_store}/{name} | rclone rcat {remote_store}/{name}"])
    short = in_box(ctx, ["rclone", "size", "--json", f"{remote_store}/{name}"]).stdout
    assert json.loads(short)["bytes"] == 50
    before = witness.take(stack)
    backup.backup(ctx)
    whole = json.loads(in_box(ctx, ["rclone", "size", "--json", f"{remote_store}/{name}"]).stdout)["bytes"]
    assert whole == len(UPLOADS["photo.jpg"])
    run = drill.restore(ctx, drill.RestoreOptions(from_remote=True))
    assert run.record["uploads"]["differing"] == [] and run.record["uploads"]["store_objects_absent"] == []
    witness.assert_intact(stack, before)


@pytest.mark.fault("remote goes away between retention and the store's garbage collection")
def test_the_remote_going_away_before_collection_deletes_nothing(stored, monkeypatch):
    """The offsite stand-in stops at the moment the remote collection starts (the real code runs):
    the backup fails naming the remote, no object is deleted on either side, and the next night
    collects normally."""
    stack, _ = stored
    ctx = stack.ctx
    local_store, remote_store = store_paths(ctx)
    plant_orphan(ctx)
    before = witness.take(stack)
    remote_before = objects(ctx)[1]
    real_collect = uploads_store.collect_remote

    def remote_gone_first(*args, **kwargs):
        ctx.compose.stop(["offsite"])
        return real_collect(*args, **kwargs)

    monkeypatch.setattr(uploads_store, "collect_remote", remote_gone_first)
    try:
        with pytest.raises((OffsiteError, CommandFailed, UnsafeOperation)) as failed:
            backup.backup(impatient(ctx))
        assert ctx.config.offsite.remote in str(failed.value), "the error names the remote"
        if isinstance(failed.value, UnsafeOperation):
            assert "nothing was deleted" in str(failed.value)
    finally:
        ctx.compose.up(["offsite"])
    monkeypatch.undo()
    assert objects(ctx)[1] == remote_before, "nothing deleted offsite"
    witness.assert_intact(stack, before)
    result = backup.backup(ctx)
    assert ORPHAN in result.remote_store.deleted
