"""The backup procedure against the real stack and a real rclone remote."""

import html
import os
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from procedures.backup import pipeline as backup
from procedures.box import backup_box
from procedures.commands import files as files_cmd
from procedures.errors import BackupError, RestoreError, UnsafeOperation
from procedures.remote.rclone_progress import size_in_bytes
from procedures.restore import drill
from procedures.sets import names as backup_names
from procedures.sets.sets import identity_of

from testkit.backup_helpers import (RCLONE_STATS, in_box, local_files, manifest_of, plant_aged_copy, remote_files,
                                     with_offsite)
from testkit.ops_run import run_check, summary_header

pytestmark = pytest.mark.stack


def test_backup_writes_verified_set_locally_and_offsite_with_matching_hashes(backup_stack):
    ctx = backup_stack.ctx
    result = backup.backup(ctx)
    names = [f"{result.set_name}{suffix}" for suffix in (".dump", ".manifest.json", ".uploads.list.json")]
    local = local_files(ctx)
    remote = remote_files(ctx)
    for name in names:
        assert local[name] > 0 and remote[name].size == local[name]
    assert not [n for n in local if n.endswith(".partial")]
    # Offsite copies are encrypted (crypt has no hashes of its own): cryptcheck compares the local
    # file with the remote one by encrypting it with the remote's nonce.
    remote_path = ctx.config.offsite.path(ctx.config.stack.environment)
    checked = in_box(ctx, ["rclone", "cryptcheck", "--one-way", "--include", names[0], "/backups", remote_path])
    assert "0 differences found" in checked.stderr, checked.stderr
    assert in_box(ctx, ["pg_restore", "--list", f"/backups/{names[0]}"]).stdout.count("TABLE DATA") >= 2


def test_manifest_describes_the_dump_exactly(backup_stack):
    ctx = backup_stack.ctx
    base = ctx.config.http.base_url
    for i in range(5):
        assert httpx.post(f"{base}/notes", json={"body": f"manifest row {i}"}).status_code == 201
    expected = int(ctx.database.query("SELECT count(*) FROM notes"))
    result = backup.backup(ctx)
    recorded = manifest_of(ctx, result.set_name)
    assert recorded["row_counts"]["public.notes"] == expected
    assert recorded["alembic_revision"] == ctx.engine.schema_revision(ctx.database) == "0001_notes_and_outbox"
    assert recorded["tag"] == "1.0.0" and recorded["server_version_num"] >= 150000
    assert recorded["dump"]["sha256"] == in_box(ctx, files_cmd.sha256(result.dump_path)).stdout.split()[0]


def test_retention_is_proven_by_listing_on_both_sides(backup_stack):
    ctx = with_offsite(backup_stack.ctx, daily=0, weekly=0, fortnightly=0, monthly=0)  # the day windows alone
    seed = backup.backup(ctx)
    now = datetime.now(timezone.utc)
    aged = {days: backup_names.set_name(identity_of(ctx), now - timedelta(days=days)) for days in (10, 20, 40)}
    plant_aged_copy(ctx, seed.set_name, aged[10], local=True, remote=True)
    plant_aged_copy(ctx, seed.set_name, aged[20], local=True, remote=True)
    plant_aged_copy(ctx, seed.set_name, aged[40], local=False, remote=True)

    result = backup.backup(ctx)

    local_sets = set(backup_names.group_files(local_files(ctx)))
    remote_sets = set(backup_names.group_files(remote_files(ctx)))
    assert aged[10] in local_sets and aged[20] not in local_sets               # 14 days locally
    assert {aged[10], aged[20]} <= remote_sets and aged[40] not in remote_sets  # 30 days offsite
    assert result.set_name in local_sets and result.set_name in remote_sets
    assert local_sets == result.local.expected_sets and remote_sets == result.remote.expected_sets
    deleted = {v.set.name: v.reason for v in result.remote.decision.delete}
    assert deleted[aged[40]].startswith("older than 30 days")


def test_crypt_remote_is_unreadable_without_the_password_and_restorable_with_it(backup_stack):
    ctx = with_offsite(backup_stack.ctx, remote="gdrive-crypt:ZenOpsBackups")
    result = backup.backup(ctx)
    dump_name = f"{result.set_name}.dump"
    raw = in_box(ctx, ["rclone", "lsf", "--recursive", "--files-only", "gdrive:encrypted"]).stdout.split()
    assert raw and not [n for n in raw if "zenops" in n or n.endswith(".dump")], "names must be encrypted"
    in_box(ctx, ["sh", "-c", 'rclone cat "gdrive:encrypted/$(rclone lsf --recursive --files-only gdrive:encrypted '
                             '| head -1)" | head -c 5 > /tmp/magic; ! grep -q PGDMP /tmp/magic'])
    fetched = in_box(ctx, ["sh", "-c", f'rclone copyto "gdrive-crypt:ZenOpsBackups/demo/{dump_name}" /tmp/x.dump'
                                       ' && pg_restore --list /tmp/x.dump >/dev/null && sha256sum /tmp/x.dump'])
    assert fetched.stdout.split()[0] == result.sha256
    wrong = in_box(ctx, ["sh", "-c", 'cp "$RCLONE_CONFIG" /tmp/wrong.conf && '
                                     'pw=$(echo not-the-password | rclone obscure -) && '
                                     'sed -i "s/^password = .*/password = $pw/" /tmp/wrong.conf && '
                                     f'rclone --config /tmp/wrong.conf copyto "gdrive-crypt:ZenOpsBackups/demo/{dump_name}" /tmp/y.dump'],
                   check=False)
    assert wrong.returncode != 0, "a wrong crypt password must not yield the dump"


@pytest.mark.fault("two stacks sharing a remote folder")
def test_a_neighbour_sharing_the_folder_and_the_remote_is_never_pruned_or_restored(backup_stack):
    """Two stacks (or two databases) in one remote folder: each prunes and restores only its own sets."""
    ctx = backup_stack.ctx
    seed = backup.backup(ctx)
    now = datetime.now(timezone.utc)
    ours = identity_of(ctx)
    neighbour = backup_names.Identity(ours.project + "-b", ours.environment, ours.database)
    old = backup_names.set_name(neighbour, now - timedelta(days=40))   # past both policies
    newer = backup_names.set_name(neighbour, now + timedelta(minutes=2))  # newer than anything of ours
    for name in (old, newer):
        plant_aged_copy(ctx, seed.set_name, name, local=True, remote=True)

    result = backup.backup(ctx)

    for listing in (local_files(ctx), remote_files(ctx)):
        assert {old, newer} <= set(backup_names.group_files(listing)), "the neighbour's sets are untouched"
    assert {old, newer} <= set(result.local.left_alone) and {old, newer} <= set(result.remote.left_alone)
    restored = drill.restore(ctx, drill.RestoreOptions(from_remote=True))
    assert restored.chosen.set_name == result.set_name, "our newest set, not the neighbour's newer one"
    with pytest.raises(RestoreError, match=f"not this stack's: it is project {neighbour.project}"):
        drill.restore(ctx, drill.RestoreOptions(requested=newer))


@pytest.mark.fault("clock 45 days ahead")
def test_a_clock_far_ahead_keeps_the_history_and_is_never_the_newest(backup_stack):
    ctx = backup_stack.ctx
    backup.backup(ctx)
    before_local, before_remote = set(local_files(ctx)), set(remote_files(ctx))
    ahead = datetime.now(timezone.utc) + timedelta(days=45)

    for night in range(2):  # the second night too: a set written on the wrong clock is no reference
        with pytest.raises(UnsafeOperation, match="not pruning: the clock may be ahead"):
            backup.backup(ctx, now=ahead + timedelta(days=night))

    assert before_local <= set(local_files(ctx)) and before_remote <= set(remote_files(ctx)), "nothing deleted"
    future = backup_names.set_name(identity_of(ctx), ahead)
    assert manifest_of(ctx, future)["clock"] == "disagreed"
    kept = {v.set.name: v.reason for v in backup.backup(ctx).local.decision.keep}
    assert kept[future].startswith("taken after now"), "on the real clock the next night prunes normally"
    assert drill.restore(ctx, drill.RestoreOptions()).chosen.set_name != future


def test_a_remote_that_is_not_crypt_is_refused_unless_plaintext_is_said(backup_stack, tmp_path):
    plain = with_offsite(backup_stack.ctx, remote="gdrive:ZenOpsBackups")
    with pytest.raises(BackupError, match="not an rclone crypt remote.*plaintext = true"):
        backup.backup(plain)
    said = tmp_path / "plaintext.toml"
    said.write_text(backup_stack.config_path.read_text().replace(
        'remote = "gdrive-crypt:ZenOpsBackups"', 'remote = "gdrive:ZenOpsBackups"\nplaintext = true'))
    stack = type(backup_stack)(backup_stack.ctx, said, backup_stack.password)
    for check in ("backup", "restore_drill"):
        done, report = run_check(stack, tmp_path, check)
        assert done.returncode == 0, done.stdout[-3000:]
        assert "WARNING: Offsite copies are NOT encrypted" in report.read_text(), f"{check} report warns"
        summary, top = summary_header(report)
        assert summary["actions_required"][-1].startswith("Warning: Offsite copies are NOT encrypted"), check
        if check == "backup":  # the set it wrote, as on disk and offsite, unencrypted
            written = summary["backup_set"]
            assert local_files(plain)[written["name"] + ".dump"] == written["dump_bytes"]
            assert remote_files(plain)[written["name"] + ".dump"].size == written["dump_bytes"]
            dump_path = f"{plain.config.backup.directory}/{written['name']}.dump"
            assert in_box(plain, files_cmd.sha256(dump_path)).stdout.split()[0] == written["sha256"]
            assert (written["offsite"], written["encrypted"], written["offsite_bytes"]) == (
                True, False, written["size_bytes"])
            assert "offsite: yes" in top and "encrypted (crypt remote): no" in top and written["sha256"] in top
            assert summary["backup_seconds"] > 0 and summary["outcome_text"] == "Backup succeeded"


def test_older_generations_are_kept_offsite_by_default(backup_stack):
    """Seed 001's tiers ship as the default: a set from a month before the 30-day window stays offsite."""
    ctx = backup_stack.ctx
    seed = backup.backup(ctx)
    old = backup_names.set_name(identity_of(ctx), datetime.now(timezone.utc) - timedelta(days=60))
    plant_aged_copy(ctx, seed.set_name, old, local=False, remote=True)
    kept = {v.set.name: v.reason for v in backup.backup(ctx).remote.decision.keep}
    assert kept[old].split(":")[0].endswith(" tier"), kept  # a weekly or monthly pick: periods that have a set


def test_stderr_of_a_command_in_the_backup_container_reaches_the_runner_line_by_line(backup_stack):
    """Inside the container the command waits for a file the callback creates on its first line: had
    `docker exec` handed stderr over only at the end, it would wait until its limit."""
    seen = []
    with backup_box(backup_stack.ctx) as box:
        def progress(line):
            seen.append(line)
            if line == "started":
                box.run(["touch", "/tmp/progress-seen"], limit="command")

        box.run(["sh", "-c", "echo started >&2; while [ ! -e /tmp/progress-seen ]; do sleep 0.05; done; "
                             "echo finished >&2"], progress=progress, timeout=30, limit="command")
    assert seen == ["started", "finished"]


def test_the_backup_check_shows_progress_on_the_terminal_and_only_final_figures_in_its_report(backup_stack, tmp_path):
    """The restore's half (download stats, restored tables) is asserted on the drill from the remote in
    test_restore_remote.py."""
    done, report = run_check(backup_stack, tmp_path, "backup")
    assert done.returncode == 0, done.stdout[-3000:]
    tables = int(re.search(r"^dump: table 1 of (\d+): public\.\w+", done.stdout, re.M)[1])
    written = re.findall(rf"^dump: table \d+ of {tables}: public\.\w+(?: \(([\d.]+ \S*B) written\))?$", done.stdout, re.M)
    assert len(written) == tables and re.search(rf"^dump: table {tables} of {tables}: ", done.stdout, re.M)
    if os.geteuid() == 0:  # root sees a local Docker's volumes: the dump file's size, stat'ed at each table
        sizes = [size_in_bytes(size) for size in written]
        assert all(written) and sizes == sorted(sizes), written
    assert re.search(rf"^upload set files: {RCLONE_STATS}$", done.stdout, re.M), done.stdout[-3000:]
    sent, total, speed = re.findall(r"^upload set files: ([\d.]+ \S*B) / ([\d.]+ \S*B), 100%, ([\d.]+ \S*B)/s",
                                    done.stdout, re.M)[-1]
    assert sent == total and size_in_bytes(sent) > 0 and size_in_bytes(speed) > 0, "real bytes, a real rate"
    assert "0 B / 0 B" not in done.stdout and "ETA -" not in done.stdout, "never rclone's empty stats"
    summary = done.stdout[done.stdout.index("= opsuite ="):]  # the end-of-run summary, from the record
    assert re.search(r"^OK: Backup succeeded", summary, re.M), summary
    assert re.search(r"^backup set: \S+, [\d.]+ \S*B; offsite: copied, ", summary, re.M), summary
    page = html.unescape(html.unescape(report.read_text()))  # the extras are escaped HTML in escaped JSON
    assert ", ETA " not in page and ": table 1 of " not in page, "live lines stay out of the report"
    assert "transferred (rclone's final stats of each copy)" in page
    assert f"<td>{tables} of {tables}</td>" in page, "the tables dumped, as a final figure"
