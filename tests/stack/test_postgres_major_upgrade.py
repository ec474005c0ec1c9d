"""A Postgres 15 set restored after the server moved to a newer major, on a real disposable stack.

Debian bookworm ships only postgresql-15 and this machine reaches no image registry, so the newer
major is trixie's postgresql-17 (opsuite-local/postgres-standin:17 and opsuite-local/backup:pg17,
built by scripts/build-images.sh): a stand-in for the move to 16, the same kind of step.

The stack is upgraded as docs/RESTORE_RUNBOOK.md section 9 tells an operator to: writers stopped, a
verified set on 15, the images moved to 17 in the env file, and a disaster restore of that set into
a new volume (the old volume is kept). Then: the drill of the old 15 set restores into a throwaway of
the CURRENT major and compares; a new backup is taken by pg_dump 17 and records 17; a set of 17 is
refused, naming the fix, by a restore server whose tools are older.
"""

import dataclasses
import re
from pathlib import Path

import docker
import pytest

from procedures.backup import pipeline as backup
from procedures.box import backup_box
from procedures.commands import rclone as rclone_cmd
from procedures.load import load_config
from procedures.context import OpsContext, prepared_context
from procedures.errors import BackupError, RestoreError
from procedures.restore import drill, throwaway

from testkit import witness
from testkit.engine_contract import throwaways_left
from testkit.backup_helpers import in_box, local_files, manifest_of, with_config

pytestmark = [pytest.mark.stack, pytest.mark.destructive]

OLD_IMAGES = {"POSTGRES_IMAGE": "opsuite-local/postgres-standin:15", "BACKUP_IMAGE": "opsuite-local/backup:pg15"}
NEW_IMAGES = {"POSTGRES_IMAGE": "opsuite-local/postgres-standin:17", "BACKUP_IMAGE": "opsuite-local/backup:pg17"}


def _require_images() -> None:
    """Fail (never skip) when the newer major's stand-ins are missing: the test would prove nothing."""
    client = docker.from_env()
    for image in (*OLD_IMAGES.values(), *NEW_IMAGES.values()):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"image {image} is missing: run scripts/build-images.sh (builds it once, by content hash)")


def _env_with(env_file: Path, images: dict[str, str], into: Path | None = None) -> Path:
    """The stack's env file with its image lines set to images (in place, as an operator edits it, or into a copy)."""
    text = env_file.read_text()
    for key, value in images.items():
        text, found = re.subn(rf"^{key}=.*$", f"{key}={value}", text, flags=re.M)
        assert found == 1, f"{key} is not in {env_file}"
    target = into or env_file
    target.write_text(text)
    return target


def _major(ctx: OpsContext) -> int:
    return int(ctx.database.query("SHOW server_version_num")) // 10000


@pytest.fixture(scope="module")
def upgraded(backup_stack):
    """The stack moved from 15 to 17 by the documented steps; yields the set taken on 15."""
    _require_images()
    stack = backup_stack
    assert _major(stack.ctx) == 15
    # The witness lists the offsite folder too, which the first set would create.
    in_box(stack.ctx, rclone_cmd.mkdir(stack.ctx.config.offsite.path(stack.ctx.config.stack.environment)))
    before, old_volume = witness.take(stack), stack.ctx.config.volumes.database
    stack.ctx.compose.stop(list(stack.ctx.config.services.app))  # nothing written after the last set
    on_15 = backup.backup(stack.ctx)
    _env_with(stack.ctx.config.stack.env_file, NEW_IMAGES)
    upgrading = prepared_context(load_config(stack.config_path), stack.ctx.tag)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CONFIRM", "YES")
        done = drill.restore(upgrading, drill.RestoreOptions(mode=drill.DISASTER_MODE, requested=on_15.set_name))
    stack.ctx = prepared_context(load_config(stack.config_path), stack.ctx.tag)  # the config names the new volume
    assert done.record["old_volume"] == old_volume and stack.ctx.config.volumes.database != old_volume
    assert _major(stack.ctx) == 17, "the live server runs the new major"
    # The sentinel came across and no set is lost. The old volume is no longer the one the config names
    # (which is how the witness finds it), so it is looked for by name: kept as it was.
    witness.assert_intact(stack, dataclasses.replace(before, volumes=before.volumes - {old_volume}))
    assert docker.from_env().volumes.get(old_volume).name == old_volume
    return on_15


@pytest.mark.fault("a restore of a Postgres 15 set after the server moved to a newer major (17: Debian's)")
def test_the_drill_of_a_15_set_restores_into_the_current_major_and_compares(backup_stack, upgraded):
    ctx = backup_stack.ctx
    assert manifest_of(ctx, upgraded.set_name)["server_version_num"] // 10000 == 15
    done = drill.restore(ctx, drill.RestoreOptions(requested=upgraded.set_name))
    assert done.record["backup_set"] == upgraded.set_name
    assert all(r["match"] for r in done.record["row_counts"]) and done.record["row_counts"]
    assert done.record["revision"]["manifest"] == done.record["revision"]["restored"] != ""
    assert throwaways_left(backup_stack.project) == []
    # The throwaway is the server's current major, and its pg_restore reads the 15 archive.
    with backup_box(ctx) as box, throwaway.throwaway_server(ctx, box, "check",
                                                              server_version_num=150000) as server:
        assert int(server.query("SHOW server_version_num")) // 10000 == 17
        assert "pg_restore (PostgreSQL) 17." in server.server.exec(["pg_restore", "--version"], limit="command").stdout
        server.restore(done.chosen.dump_in_backups, 2)
        assert server.row_counts() == manifest_of(ctx, upgraded.set_name)["row_counts"]


@pytest.mark.fault("a backup after a Postgres major upgrade: pg_dump of the new major, the set records it")
def test_a_new_backup_uses_the_new_majors_dump_and_records_it(backup_stack, upgraded, tmp_path):
    ctx = backup_stack.ctx
    stale = with_config(ctx, stack={"env_file": _env_with(ctx.config.stack.env_file, {
        "BACKUP_IMAGE": OLD_IMAGES["BACKUP_IMAGE"]}, into=tmp_path / "old-backup-image.env")})
    before = set(local_files(ctx))
    with pytest.raises(BackupError, match=r"pg_dump 15 is older than the server \(17\).*postgres:17 \(BACKUP_IMAGE\)"):
        backup.backup(stale)
    assert not [n for n in set(local_files(ctx)) - before if not n.endswith(".partial")], "no set under a final name"

    taken = backup.backup(ctx)
    recorded = manifest_of(ctx, taken.set_name)
    assert recorded["server_version_num"] // 10000 == 17 and recorded["dump"]["tool_major"] == 17
    assert "pg_dump (PostgreSQL) 17." in in_box(ctx, ["pg_dump", "--version"]).stdout


@pytest.mark.fault("a drill of a set of a newer Postgres major than the restore server's tools")
def test_a_set_newer_than_the_restore_tools_is_refused_naming_the_fix(backup_stack, upgraded, tmp_path):
    ctx = backup_stack.ctx
    on_17 = backup.backup(ctx)
    before = witness.take(backup_stack)
    # A host (or an env file) still on 15 entirely: the backup image cannot even read the archive's
    # table of contents, which must not be called a damaged set.
    on_15 = with_config(ctx, stack={"env_file": _env_with(ctx.config.stack.env_file, OLD_IMAGES,
                                                          into=tmp_path / "on-15.env")})
    with pytest.raises(RestoreError) as refused:
        drill.restore(on_15, drill.RestoreOptions(requested=on_17.set_name))
    message = str(refused.value)
    assert "was dumped from Postgres 17, and the backup image's pg_restore is 15" in message, message
    assert "not known to be damaged" in message and "BACKUP_IMAGE built from postgres:17" in message
    # The backup image rebuilt, the db service still on 15: the drill's throwaway runs that db image.
    old_server = with_config(ctx, stack={"env_file": _env_with(ctx.config.stack.env_file, {
        "POSTGRES_IMAGE": OLD_IMAGES["POSTGRES_IMAGE"]}, into=tmp_path / "db-on-15.env")})
    with pytest.raises(RestoreError) as refused:
        drill.restore(old_server, drill.RestoreOptions(requested=on_17.set_name))
    message = str(refused.value)
    assert "dumped from Postgres 17" in message and "runs Postgres 15" in message, message
    assert "Nothing was restored" in message and "POSTGRES_IMAGE=postgres:17" in message
    assert "RESTORE_RUNBOOK.md section 9" in message
    assert throwaways_left(backup_stack.project) == [], "the refused throwaway and its volume are removed"
    witness.assert_intact(backup_stack, before)
