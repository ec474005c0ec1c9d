"""[backup] paths: a host directory the app keeps on a bind mount is archived into each set, with
its checksum and entry count in the manifest, copied offsite with the set, and listed again by
every verification, the drill's choice of a set included: a truncated archive is refused."""

import dataclasses

import pytest

from procedures.backup import pipeline as backup
from procedures.backup.box import backup_box
from procedures.context import OpsContext
from procedures.errors import RestoreError
from procedures.restore import choose
from testkit.backup_helpers import in_box, local_files, remote_files

pytestmark = [pytest.mark.stack]


def with_paths(ctx: OpsContext, *paths) -> OpsContext:
    config = ctx.config
    return OpsContext(dataclasses.replace(config, backup=dataclasses.replace(config.backup,
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
