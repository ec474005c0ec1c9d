"""[backup] paths: a host directory the app keeps on a bind mount is archived into each set, with
its checksum, entry count and every member in the manifest, copied offsite with the set, and listed
again by every verification, the drill's choice of a set included: a truncated archive is refused.
The drill extracts it into a throwaway volume and compares every member with the manifest."""

import dataclasses
import hashlib
import json

import httpx
import pytest

from procedures import runner
from procedures.backup import pipeline as backup
from procedures.box import backup_box
from procedures.context import OpsContext, prepared_context
from procedures.errors import RestoreError
from procedures.guards import THROWAWAY_VOLUME_PREFIX
from procedures.restore import choose, drill
from procedures.restore.drill import RestoreOptions
from testkit.backup_helpers import in_box, local_files, remote_files

pytestmark = [pytest.mark.stack]


def with_paths(ctx: OpsContext, *paths) -> OpsContext:
    config = ctx.config
    return prepared_context(dataclasses.replace(config, backup=dataclasses.replace(config.backup,
                                                                             paths=tuple(map(str, paths)))), ctx.tag)


@pytest.fixture
def data(tmp_path):
    """An app's bind-mounted data: two files, one in a subdirectory, and an empty directory."""
    root = tmp_path / "data"
    (root / "invoices").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "settings.json").write_text('{"theme": "dark"}')
    (root / "invoices" / "0001.pdf").write_bytes(b"%PDF-1.4 invoice")
    return root


@pytest.mark.fault("a truncated archive of [backup] paths")
def test_host_paths_are_archived_verified_copied_offsite_and_checked_by_the_drill(backup_stack, data):
    ctx = with_paths(backup_stack.ctx, data)

    taken = backup.backup(ctx)

    archived = taken.manifest["paths"]
    assert archived["file"] == f"{taken.set_name}.paths.tar.gz" and archived["paths"] == [str(data)]
    assert (archived["entries"], archived["files"]) == (5, 2)  # data/, empty/, invoices/ and the two files
    assert local_files(ctx)[archived["file"]] == archived["size"]
    assert remote_files(ctx)[archived["file"]].size == archived["size"]
    listed = in_box(ctx, ["tar", "--list", "--gzip", "--file", f"{ctx.config.backup.directory}/{archived['file']}"])
    assert f"{str(data).lstrip('/')}/invoices/0001.pdf" in listed.stdout.splitlines()
    with backup_box(ctx) as box:
        assert choose.choose_backup(ctx, box, taken.set_name).manifest["paths"] == archived

    path = f"{ctx.config.backup.directory}/{archived['file']}"
    in_box(ctx, ["truncate", "--size", str(archived["size"] // 2), path])
    with backup_box(ctx) as box, pytest.raises(RestoreError, match="failed verification.*paths.tar.gz"):
        choose.choose_backup(ctx, box, taken.set_name)


def test_without_paths_a_set_holds_no_archive_of_them(backup_stack):
    taken = backup.backup(backup_stack.ctx)
    assert taken.manifest["paths"] is None
    assert f"{taken.set_name}.paths.tar.gz" not in local_files(backup_stack.ctx)


def snapshot(root) -> dict:
    """Every entry under root: bytes of files, mode of each."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, p.stat().st_mode)
            for p in sorted(root.rglob("*"))}


def throwaways(ctx: OpsContext) -> str:
    prefix = f"{THROWAWAY_VOLUME_PREFIX}{ctx.config.stack.project}-paths-"
    return runner.run(["docker", "volume", "ls", "--quiet", "--filter", f"name={prefix}"], limit="command").stdout.strip()


def rewrite_archive_with_a_member_changed(ctx: OpsContext, set_name: str, data, member: str) -> None:
    """The set's archive made again with one file's bytes changed (same size), and its manifest's
    checksum and size made to agree: an archive damaged before it was hashed. Only a comparison of
    every member can tell."""
    directory = ctx.config.backup.directory
    manifest_path = f"{directory}/{set_name}.manifest.json"
    with backup_box(ctx) as box:
        recorded = json.loads(box.run(["cat", manifest_path], limit="command").stdout)
        archive = f"{directory}/{recorded['paths']['file']}"
        box.run(["mkdir", "/tmp/remade"], limit="command")
        box.run(["tar", "--extract", "--gzip", "--file", archive, "--directory", "/tmp/remade"], limit="command")
        changed = f"/tmp/remade/{str(data).lstrip('/')}/{member}"
        original = box.run(["cat", changed], limit="command").stdout
        box.run(["dd", f"of={changed}", "status=none"], input_text=original.upper(), limit="command")
        box.run(["tar", "--create", "--gzip", "--file", archive, "--directory", "/tmp/remade", "--",
                 str(data).lstrip("/")], limit="command")
        recorded["paths"].update(sha256=box.run(["sha256sum", archive], limit="command").stdout.split()[0],
                                 size=int(box.run(["stat", "--format=%s", archive], limit="command").stdout))
        box.run(["dd", f"of={manifest_path}", "status=none"], input_text=json.dumps(recorded), limit="command")


@pytest.mark.fault("an archive of [backup] paths damaged before it was hashed, or after")
def test_the_drill_extracts_the_paths_into_a_throwaway_and_fails_naming_a_damaged_archive(backup_stack, data):
    """The drill extracts the set's archive of host paths into a throwaway volume and compares every
    member with the manifest: a whole set passes, the live paths untouched and nothing left behind; a
    member whose bytes differ fails the drill naming the file and the archive; a damaged archive fails
    it at the choice of the set, naming the archive."""
    ctx = with_paths(backup_stack.ctx, data)
    base = ctx.config.http.base_url  # a row for the drill's sample query on notes
    assert httpx.post(f"{base}/notes", json={"body": "paths drill"}).status_code == 201
    (data / "invoices" / "same.pdf").hardlink_to(data / "invoices" / "0001.pdf")
    (data / "latest").symlink_to("invoices/0001.pdf")
    live = snapshot(data)
    taken = backup.backup(ctx)
    recorded, root = taken.manifest["paths"], str(data).lstrip("/")
    members = {f["path"]: f for f in recorded["members"]["files"]}
    invoice = members[f"{root}/invoices/0001.pdf"]
    assert (invoice["size"], invoice["sha256"]) == (16, hashlib.sha256(b"%PDF-1.4 invoice").hexdigest())
    assert members[f"{root}/invoices/same.pdf"]["sha256"] == invoice["sha256"], "a hard link: the file it is"
    assert recorded["members"]["skipped"] == [f"{root}/latest"]
    assert f"{root}/empty" in {d["path"] for d in recorded["members"]["directories"]}

    passed = drill.restore(ctx, RestoreOptions(requested=taken.set_name)).record["paths"]
    assert (passed["archive"], passed["recorded"]["files"], passed["extracted"]["files"]) == (recorded["file"], 3, 3)
    assert not any(passed[k] for k in ("missing", "extra", "differing", "other_missing", "other_extra")), passed
    assert snapshot(data) == live and throwaways(ctx) == "", "live paths untouched, the throwaway removed"

    rewrite_archive_with_a_member_changed(ctx, taken.set_name, data, "invoices/0001.pdf")
    with pytest.raises(RestoreError, match=rf"extracted from {recorded['file']} .* 1 differing: {root}/invoices/0001.pdf"):
        drill.restore(ctx, RestoreOptions(requested=taken.set_name))
    assert snapshot(data) == live and throwaways(ctx) == ""

    archive = f"{ctx.config.backup.directory}/{recorded['file']}"
    in_box(ctx, ["dd", "if=/dev/zero", f"of={archive}", "bs=1", "count=16", f"seek={recorded['size'] // 2}",
                 "conv=notrunc", "status=none"])
    with pytest.raises(RestoreError, match=rf"{taken.set_name} failed verification.*{recorded['file']}.*corrupted"):
        drill.restore(ctx, RestoreOptions(requested=taken.set_name))
