"""Uploads against the real stack: the backup records a file list, the drill restores the uploads
(from the store, or a set's archive) into a throwaway volume and compares every file with it,
naming what differs. The store's own costs and garbage collection: test_uploads_store.py."""

import dataclasses
import hashlib
import json

import httpx
import pytest

from procedures.backup import pipeline as backup
from procedures.box import backup_box
from procedures.commands import files as files_cmd
from procedures.context import OpsContext, prepared_context
from procedures.errors import RestoreError
from procedures.restore import drill
from procedures.sets import manifest, uploads_list

from testkit.backup_helpers import in_box, local_files, manifest_of, remote_files, with_config
from testkit.ops_run import run_check
from tests.stack.test_restore_drill import leftovers

pytestmark = [pytest.mark.stack, pytest.mark.destructive]

UPLOADS = {"report.pdf": b"%PDF-1.7 quarterly report", "photo.jpg": b"\xff\xd8\xff" + bytes(range(256)) * 40,
           "notes.txt": b"keep me"}


def without_uploads(ctx: OpsContext) -> OpsContext:
    return prepared_context(dataclasses.replace(ctx.config, backup=dataclasses.replace(ctx.config.backup,
                                                                                 uploads_archive=False)), ctx.tag)


@pytest.fixture(scope="module")
def uploaded(backup_stack):
    base = backup_stack.ctx.config.http.base_url
    assert httpx.post(f"{base}/notes", json={"body": "a note the drill's sample query finds"}).status_code == 201
    for name, content in UPLOADS.items():
        assert httpx.put(f"{base}/uploads/{name}", content=content).status_code == 201
    return backup_stack


def test_backup_records_the_uploads_list_beside_the_set_locally_and_offsite(uploaded):
    ctx = uploaded.ctx
    result = backup.backup(ctx)
    recorded = manifest_of(ctx, result.set_name)["uploads"]["list"]
    assert recorded["file"] == f"{result.set_name}.uploads.list.json"
    assert recorded["files"] == len(UPLOADS) and recorded["bytes"] == sum(map(len, UPLOADS.values()))
    local, remote = local_files(ctx), remote_files(ctx)
    assert local[recorded["file"]] == recorded["size"] == remote[recorded["file"]].size
    listed = json.loads(in_box(ctx, files_cmd.read(f"/backups/{recorded['file']}")).stdout)
    assert {e["path"]: (e["size"], e["sha256"]) for e in listed["files"]} == {
        name: (len(content), hashlib.sha256(content).hexdigest()) for name, content in UPLOADS.items()}
    assert in_box(ctx, files_cmd.sha256(f"/backups/{recorded['file']}")).stdout.split()[0] == recorded["sha256"]


def test_the_drill_passes_on_an_intact_set_and_removes_its_uploads_volume(uploaded, tmp_path):
    done, report = run_check(uploaded, tmp_path, "restore_drill")
    assert done.returncode == 0, done.stdout[-3000:]
    record = json.loads(report.with_suffix(".json").read_text())
    found = record["uploads"]
    assert found["restored"]["files"] == found["recorded"]["files"] == len(UPLOADS)
    assert (found["missing"], found["extra"], found["differing"]) == ([], [], [])
    assert found["volume"].startswith(f"opsuite-restore-{uploaded.project}-uploads-")
    assert "uploads: recorded list vs restored" in report.read_text()
    assert leftovers(uploaded) == ("", ""), "the uploads volume and its container are removed"


def test_the_drill_names_the_files_of_an_archive_changed_after_the_backup(uploaded):
    """A set written with a tar.gz ([backup] uploads_store = false) still verifies and restores
    while the store is the default."""
    ctx = uploaded.ctx
    result = backup.backup(with_config(ctx, backup={"uploads_store": False}))
    written = manifest_of(ctx, result.set_name)
    archive = f"/backups/{written['uploads']['file']}"
    # Rebuild the archive with one file changed, one gone and one added, and make the manifest's
    # checksum agree, so only the file list can tell.
    in_box(ctx, ["sh", "-c", f"rm -rf /tmp/t && mkdir /tmp/t && tar -xzf {archive} -C /tmp/t && "
                             "printf changed > /tmp/t/notes.txt && rm /tmp/t/photo.jpg && "
                             f"printf new > /tmp/t/planted.bin && rm {archive} && tar -czf {archive} -C /tmp/t ."])
    manifest_path = f"/backups/{result.set_name}.manifest.json"
    with backup_box(ctx) as box:
        written["uploads"]["sha256"] = uploads_list.files.sha256(box, archive)
        written["uploads"]["size"] = uploads_list.files.size(box, archive)
        box.run(files_cmd.remove([manifest_path]), limit="command")
        manifest.write(box, manifest_path, written)

    with pytest.raises(RestoreError) as refused:
        drill.restore(ctx, drill.RestoreOptions(requested=result.set_name))
    message = str(refused.value)
    assert "1 missing: photo.jpg" in message and "1 extra: planted.bin" in message
    assert "1 differing: notes.txt" in message
    assert leftovers(uploaded) == ("", ""), "removed after a failure too"
    in_box(ctx, files_cmd.remove([f"/backups/{n}" for n in local_files(ctx) if n.startswith(result.set_name)]))


def test_a_set_without_uploads_skips_the_step_and_says_why(uploaded, tmp_path):
    result = backup.backup(without_uploads(uploaded.ctx))
    assert not [n for n in local_files(uploaded.ctx) if n.startswith(result.set_name + ".uploads")]
    done, report = run_check(uploaded, tmp_path, "restore_drill", f"--backup={result.set_name}")
    assert done.returncode == 0, done.stdout[-3000:]
    steps = {s["step"].split(": ", 1)[-1]: s for s in json.loads(report.with_suffix(".json").read_text())["steps"]}
    skipped = {s["name"]: s for s in steps.values() if s["outcome"] == "skipped"}
    # the paths step is skipped too: the stack archives no host paths ([backup] paths is empty)
    assert set(skipped) == {"uploads", "paths"} and "uploads_archive was false" in skipped["uploads"]["blocked_by"]
