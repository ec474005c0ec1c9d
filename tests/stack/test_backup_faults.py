"""Backup faults against the real stack: each fails clearly, keeps earlier backups, prunes nothing."""

import threading
import time

import pytest

from procedures import runner
from procedures.backup import offsite_setup
from procedures.backup import pipeline as backup
from procedures.box import backup_box
from procedures.commands import docker as docker_cmd
from procedures.commands import files as files_cmd
from procedures.errors import BackupError, CommandFailed, OffsiteError, UnsafeOperation
from procedures.release import install
from procedures.sets import names as backup_names
from procedures.sets import verify

from testkit import faults, witness
from testkit.backup_helpers import impatient, in_box, local_files, remote_files, with_config

pytestmark = [pytest.mark.stack, pytest.mark.destructive]


@pytest.fixture(scope="module")
def stack(backup_stack):
    backup.backup(backup_stack.ctx)  # every fault starts from one good, verified backup
    return backup_stack


@pytest.mark.fault("database down during a backup")
def test_database_down_fails_before_any_file_is_created(stack):
    ctx = stack.ctx
    before = local_files(ctx)
    ctx.compose.stop([ctx.config.services.database])
    try:
        with pytest.raises(BackupError, match="database not reachable, nothing was written"):
            backup.backup(ctx)
        assert local_files(ctx) == before
    finally:
        install.start_database(ctx)


def test_the_backup_service_gets_the_configured_rclone_retries(stack):
    with backup_box(impatient(stack.ctx)) as box:
        assert box.run(["printenv", "RCLONE_RETRIES", "RCLONE_LOW_LEVEL_RETRIES"], limit="command").stdout.split() == ["1", "1"]


@pytest.mark.fault("remote unreachable")
def test_unreachable_remote_keeps_the_verified_local_dump_and_next_run_uploads_it(stack):
    ctx = stack.ctx
    ctx.compose.stop(["offsite"])
    try:
        with pytest.raises(OffsiteError, match="unreachable.*the local backup is kept"):
            backup.backup(impatient(ctx))
    finally:
        ctx.compose.up(["offsite"])
    stranded = max(backup_names.group_files(local_files(ctx)))
    assert stranded not in backup_names.group_files(remote_files(ctx))
    assert {"dump", "manifest"} <= backup_names.group_files(local_files(ctx))[stranded]
    result = backup.backup(ctx)
    assert f"{stranded}.dump" in result.uploaded and f"{stranded}.manifest.json" in result.uploaded
    assert stranded in backup_names.group_files(remote_files(ctx))


@pytest.mark.fault("rclone config missing")
def test_missing_rclone_config_names_the_fix(stack):
    ctx = stack.ctx
    saved = in_box(ctx, files_cmd.read("/config/rclone/rclone.conf")).stdout
    in_box(ctx, ["rm", "/config/rclone/rclone.conf"])
    try:
        with pytest.raises(OffsiteError, match="not configured.*rclone config"):
            backup.backup(ctx)
    finally:
        in_box(ctx, files_cmd.write_stdin_to("/config/rclone/rclone.conf"), input_text=saved)


def _kill_backup_when_dump_blocks(ctx, done: threading.Event) -> None:
    """Wait until pg_dump waits on the table lock, then kill the backup container (a crash)."""
    prefix = f"{ctx.config.stack.project}-backup-"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not done.is_set():
        partial = [n for n in local_files_quiet(ctx) if n.endswith(".dump.partial")]
        if partial:
            for name in runner.run(docker_cmd.container_names(prefix), limit="command").stdout.split():
                runner.run(["docker", "kill", name], check=False, limit="command")
            return
        time.sleep(0.2)


def local_files_quiet(ctx):
    volume = f"{ctx.config.stack.project}_backups"
    done = runner.run(["docker", "run", "--rm", "-v", f"{volume}:/b:ro", "opsuite-local/backup:pg15",
                       "ls", "/b"], check=False, limit="command")
    return done.stdout.split()


@pytest.mark.fault("dump killed")
def test_interrupted_dump_leaves_no_final_name_and_prunes_nothing(stack):
    ctx = stack.ctx
    before = local_files(ctx)
    done = threading.Event()
    # An exclusive lock held by another session makes pg_dump wait mid-dump, deterministically.
    psql = ["psql", "-X", "-At", "-U", "zenops", "-d", "zenops", "-v", "ON_ERROR_STOP=1"]
    with runner.session(docker_cmd.exec_in(f"{ctx.config.stack.project}-db-1", psql)) as holder:
        holder.send("BEGIN; LOCK TABLE notes IN ACCESS EXCLUSIVE MODE; SELECT 'locked';")
        assert holder.read_until("locked") == ["BEGIN", "LOCK TABLE"]
        killer = threading.Thread(target=_kill_backup_when_dump_blocks, args=(ctx, done))
        killer.start()
        try:
            with pytest.raises(BackupError):
                backup.backup(ctx)
        finally:
            done.set()
            killer.join()
            holder.send("ROLLBACK;")
    after = local_files(ctx)
    finals = {n for n in after if not n.endswith(".partial")}
    assert finals == set(before), "no new final name, nothing pruned, earlier backups untouched"
    assert all(after[n] == before[n] for n in before)
    recovered = backup.backup(ctx)
    assert not [n for n in local_files(ctx) if n.endswith(".partial")], "the next run clears leftovers"
    assert recovered.set_name in backup_names.group_files(local_files(ctx))


@pytest.mark.fault("corrupted dump")
def test_corrupted_dump_is_caught_by_verification(stack):
    ctx = stack.ctx
    result = backup.backup(ctx)
    in_box(ctx, faults.flip_byte(result.dump_path, result.dump_size // 2))
    with backup_box(ctx) as box:
        with pytest.raises(BackupError, match="checksum .* differs .* corrupted"):
            verify.verify_set(ctx.engine, box, ctx.config.backup.directory, result.set_name)
    in_box(ctx, faults.flip_byte(result.dump_path, 0))
    with backup_box(ctx) as box:
        with pytest.raises(BackupError, match="not a readable pg_dump archive|checksum"):
            verify.verify_set(ctx.engine, box, ctx.config.backup.directory, result.set_name)


@pytest.mark.fault("disk nearly full")
def test_a_nearly_full_disk_refuses_the_backup_before_writing(stack):
    before = witness.take(stack)
    full = with_config(stack.ctx, backup={"min_free_bytes": 10**15})  # more than any disk has free
    with pytest.raises(BackupError, match="bytes free in the backups volume, need .*free space or lower local_keep_days"):
        backup.backup(full)
    witness.assert_intact(stack, before)


@pytest.mark.fault("remote listing fails (the remote goes away after the upload)")
def test_remote_gone_before_retention_prunes_nothing_and_keeps_the_verified_set(stack):
    ctx = impatient(stack.ctx)
    before = witness.take(stack)
    with backup.open_run(ctx) as run:
        for step in backup.BACKUP.steps:
            if step.skip_reason(run):  # as the runbook skips it (no [backup] paths here)
                continue
            if step.name == "prune_remote":
                ctx.compose.stop(["offsite"])
                try:
                    with pytest.raises((OffsiteError, CommandFailed)):
                        step.action(run)
                finally:
                    ctx.compose.up(["offsite"])
            else:
                step.action(run)
    witness.assert_intact(stack, before)
    assert run.set_name in backup_names.group_files(local_files(ctx))


@pytest.mark.fault("every spelling that once bypassed the volume guard")
def test_no_spelling_of_volume_removal_reaches_the_engine(stack):
    before = witness.take(stack)
    ctx = stack.ctx
    for argv in faults.volume_removal_spellings(stack.project, ctx.config.volumes.database):
        with pytest.raises(UnsafeOperation, match="never removes volumes"):
            runner.run(argv, limit="command")
    witness.assert_intact(stack, before)


PROBE_SFTP = {"host": "offsite", "port": "2022", "user": "backup", "shell_type": "unix",
              "md5sum_command": "md5sum", "sha1sum_command": "sha1sum"}


def _set_up(ctx, base_remote: str, crypt_remote: str, **setup):
    return offsite_setup.set_up_offsite(with_config(
        ctx, offsite={"remote": f"{crypt_remote}:Probe"},
        offsite_setup={"backend": "sftp", "base_remote": base_remote, "options": PROBE_SFTP,
                       "secret_options": {"pass": "OFFSITE_PASSWORD"}, **setup}))


def test_offsite_set_up_adds_its_remotes_proves_them_and_keeps_them_on_the_next_run(stack):
    ctx = stack.ctx
    first = _set_up(ctx, "probe-sftp", "probe-crypt")
    assert (first.added, first.kept) == (["probe-sftp", "probe-crypt"], [])
    conf = in_box(ctx, files_cmd.read("/config/rclone/rclone.conf")).stdout
    assert "[gdrive]" in conf and "[gdrive-crypt]" in conf, "the remotes the backups use are kept"
    assert "type = crypt" in conf and "remote = probe-sftp:encrypted" in conf
    assert stack.password not in conf, "passwords are stored obscured, as rclone config stores them"
    assert in_box(ctx, ["stat", "-c", "%a", "/config/rclone/rclone.conf"]).stdout.strip() == "600"
    again = _set_up(ctx, "probe-sftp", "probe-crypt")
    assert (again.added, again.kept) == ([], ["probe-sftp", "probe-crypt"])
    assert in_box(ctx, files_cmd.read("/config/rclone/rclone.conf")).stdout == conf
    assert in_box(ctx, ["rclone", "lsf", "probe-crypt:Probe"]).stdout == "", "the probe and its folder are deleted"


@pytest.mark.fault("offsite credentials wrong at set-up")
def test_offsite_set_up_with_a_wrong_password_fails_at_the_probe(stack, tmp_path):
    secrets_file = tmp_path / "offsite.env"
    secrets_file.write_text("OFFSITE_PASSWORD=not-the-sftp-password\nOFFSITE_CRYPT_PASSWORD=some-crypt-password\n")
    secrets_file.chmod(0o600)
    with pytest.raises(OffsiteError, match="cannot write to probe-bad-crypt:Probe/.opsuite-probe-"):
        _set_up(impatient(stack.ctx), "probe-bad", "probe-bad-crypt", secrets_file=str(secrets_file))
