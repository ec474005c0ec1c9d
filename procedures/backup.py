"""The backup runbook: preflight, dump and verify, manifest, uploads archive, offsite copy, retention.

Each step is a function over one BackupRun so the ops check can assert them one by one;
`backup(ctx)` runs them all, in order, under the operations lock. Nothing is pruned unless every
earlier step succeeded, and a failure never leaves a partial file under a final name.
"""

import contextlib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import backup_files, backup_names, lock, manifest, offsite, prune, release, retention
from .backup_box import BackupBox, backup_box
from .commands import files as files_cmd
from .commands import postgres as pg
from .context import OpsContext
from .dump import BackupError, DumpResult, dump_database, remove_leftover_partials, verify_dump
from .errors import CommandFailed


@dataclass(frozen=True)
class Preflight:
    server_version_num: int
    dump_major: int
    free_bytes: int
    required_free_bytes: int
    last_dump_bytes: int
    leftover_partials: list[str]


@dataclass
class BackupRun:
    ctx: OpsContext
    box: BackupBox
    now: datetime
    database: str
    set_name: str
    preflight: Preflight | None = None
    dump: DumpResult | None = None
    uploads: dict | None = None
    manifest: dict | None = None
    remote: offsite.RemoteStatus | None = None
    uploaded: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def directory(self) -> str:
        return self.ctx.config.backup.directory

    def path(self, kind: str) -> str:
        return f"{self.directory}/{backup_files.file_name(self.set_name, kind)}"


def database_name(ctx: OpsContext) -> str:
    model = ctx.compose.rendered()
    env = model["services"][ctx.config.services.database].get("environment") or {}
    return env.get(ctx.config.database.name_variable) or "postgres"


def start(ctx: OpsContext, box: BackupBox, now: datetime | None = None) -> BackupRun:
    now = now or datetime.now(timezone.utc)
    database = database_name(ctx)
    name = backup_names.set_name(ctx.config.stack.environment, database, now)
    return BackupRun(ctx, box, now, database, name)


def _dump_major(box: BackupBox) -> int:
    text = box.run(pg.dump_version()).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", text)
    return int(match.group(1)) if match else 0


def run_preflight(run: BackupRun) -> Preflight:
    """Database reachable, pg_dump not older than the server, enough free disk; refuse otherwise."""
    box, cfg = run.box, run.ctx.config.backup
    try:
        box.run(pg.isready())
        server = int(box.run(pg.psql(pg.SERVER_VERSION_SQL)).stdout.strip())
    except CommandFailed as e:
        raise BackupError(f"database not reachable, nothing was written: {e.stderr_tail or e}") from e
    dump_major = _dump_major(box)
    if dump_major < server // 10000:
        raise BackupError(
            f"pg_dump {dump_major} is older than the server ({server // 10000}): rebuild the backup image "
            f"from postgres:{server // 10000} (BACKUP_IMAGE)"
        )
    leftovers = remove_leftover_partials(box, run.directory)
    files = backup_files.list_files(box, run.directory)
    last = max((f.size for f in files if f.name.endswith(".dump")), default=0)
    required = max(cfg.min_free_bytes, int(cfg.free_space_factor * last))
    free = backup_files.free_bytes(box, run.directory)
    if free < required:
        raise BackupError(
            f"only {free} bytes free in the backups volume, need {required} "
            f"({cfg.free_space_factor}x the last dump of {last} bytes): free space or lower local_keep_days"
        )
    run.preflight = Preflight(server, dump_major, free, required, last, leftovers)
    return run.preflight


def run_dump(run: BackupRun) -> DumpResult:
    started = time.monotonic()
    run.dump = dump_database(run.box, run.directory, run.set_name)
    run.timings["dump"] = time.monotonic() - started
    return run.dump


def run_uploads_archive(run: BackupRun) -> dict | None:
    """Archive the uploads volume beside the dump (partial name until complete), if enabled."""
    cfg = run.ctx.config.backup
    if not cfg.uploads_archive:
        run.uploads = None
        return None
    final = run.path("uploads")
    started = time.monotonic()
    run.box.run(files_cmd.archive(cfg.uploads_path, final + backup_files.PARTIAL))
    size = backup_files.size(run.box, final + backup_files.PARTIAL)
    checksum = backup_files.sha256(run.box, final + backup_files.PARTIAL)
    run.box.run(files_cmd.rename(final + backup_files.PARTIAL, final))
    run.timings["uploads"] = time.monotonic() - started
    run.uploads = {"file": final.rsplit("/", 1)[-1], "size": size, "sha256": checksum}
    return run.uploads


def run_manifest(run: BackupRun) -> dict:
    finished = datetime.now(timezone.utc)
    tag = run.ctx.tag
    run.manifest = manifest.build(
        set_name=run.set_name, environment=run.ctx.config.stack.environment, database=run.database,
        tag=tag, dump=run.dump, uploads=run.uploads, started_at=run.now.isoformat(timespec="seconds"),
        finished_at=finished.isoformat(timespec="seconds"), duration=(finished - run.now).total_seconds(),
    )
    manifest.write(run.box, run.path("manifest"), run.manifest)
    return run.manifest


def verify_set(box: BackupBox, directory: str, set_name: str) -> dict:
    """Re-check a finished set: readable archive and checksums equal to its manifest."""
    recorded = manifest.read(box, f"{directory}/{backup_files.file_name(set_name, 'manifest')}")
    dump_path = f"{directory}/{recorded['dump']['file']}"
    verify_dump(box, dump_path)
    actual = backup_files.sha256(box, dump_path)
    if actual != recorded["dump"]["sha256"]:
        raise BackupError(f"{dump_path}: checksum {actual} differs from the manifest's {recorded['dump']['sha256']}: "
                          "the dump is corrupted; do not restore it")
    if recorded.get("uploads"):
        uploads_path = f"{directory}/{recorded['uploads']['file']}"
        if backup_files.sha256(box, uploads_path) != recorded["uploads"]["sha256"]:
            raise BackupError(f"{uploads_path}: checksum differs from the manifest: the archive is corrupted")
    return recorded


def complete_local_files(box: BackupBox, directory: str) -> list[str]:
    """Files of local sets that have a manifest (complete and verified), oldest set first."""
    names = [f.name for f in backup_files.list_files(box, directory)]
    sets, groups = prune.to_sets(names)
    return [backup_files.file_name(s.name, kind)
            for s in sorted(sets, key=lambda s: s.taken_at) if s.verified
            for kind in ("dump", "uploads", "manifest") if kind in groups[s.name]]


def run_remote_status(run: BackupRun) -> offsite.RemoteStatus:
    cfg = run.ctx.config
    run.remote = offsite.remote_status(run.box, cfg.offsite.path(cfg.stack.environment))
    return run.remote


def run_upload(run: BackupRun) -> list[str]:
    """Upload every complete local set the remote lacks (this one and any a failed run left behind)."""
    started = time.monotonic()
    current = [backup_files.file_name(run.set_name, kind) for kind in ("dump", "manifest")]
    if run.uploads:
        current.append(run.uploads["file"])
    run.uploaded = offsite.upload(run.box, run.directory, run.remote,
                                  complete_local_files(run.box, run.directory), current)
    run.timings["offsite"] = time.monotonic() - started
    return run.uploaded


def local_policy(run: BackupRun) -> retention.RetentionPolicy:
    cfg = run.ctx.config.backup
    return retention.local_policy(cfg.local_keep_days, daily=cfg.daily, weekly=cfg.weekly, monthly=cfg.monthly)


def remote_policy(run: BackupRun) -> retention.RetentionPolicy:
    cfg = run.ctx.config.offsite
    return retention.remote_policy(cfg.keep_days, daily=cfg.daily, weekly=cfg.weekly, monthly=cfg.monthly)


def run_prune_local(run: BackupRun) -> prune.PruneResult:
    return prune.prune_local(run.box, run.directory, local_policy(run), run.now)


def run_prune_remote(run: BackupRun) -> prune.PruneResult:
    return prune.prune_remote(run.box, run.remote, remote_policy(run), run.now)


@dataclass(frozen=True)
class BackupResult:
    set_name: str
    dump_path: str
    dump_size: int
    sha256: str
    manifest: dict
    uploaded: list[str]
    local: prune.PruneResult
    remote: prune.PruneResult | None
    timings: dict[str, float]


def with_serving_tag(ctx: OpsContext) -> OpsContext:
    """Backups record the TAG in service; the prod overlay needs one to render."""
    return ctx if ctx.tag else ctx.with_tag(release.running_tag(ctx))


def backup(ctx: OpsContext, *, break_stale_lock: bool = False, locked: bool = False) -> BackupResult:
    """Run the whole backup runbook under the lock; prune only after every other step succeeded."""
    ctx = with_serving_tag(ctx)
    with contextlib.ExitStack() as stack:
        if not locked:
            stack.enter_context(lock.hold_stack(ctx.config, "backup", break_stale=break_stale_lock))
        box = stack.enter_context(backup_box(ctx))
        run = start(ctx, box)
        run_preflight(run)
        run_dump(run)
        run_uploads_archive(run)
        run_manifest(run)
        verify_set(box, run.directory, run.set_name)
        remote = None
        if ctx.config.offsite.enabled:
            run_remote_status(run)
            run_upload(run)
        local = run_prune_local(run)
        if ctx.config.offsite.enabled:
            remote = run_prune_remote(run)
        return BackupResult(run.set_name, run.dump.path, run.dump.size, run.dump.sha256, run.manifest,
                            run.uploaded, local, remote, run.timings)
