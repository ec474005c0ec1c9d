"""The backup runbook: preflight, dump and verify, uploads (store or archive), manifest, offsite copy,
retention (then garbage collection of the uploads store).

`BACKUP` lists the steps once: `backup(ctx)` runs them all under the operations lock, and
ops_checks/backup.py runs and asserts them one by one. Nothing is pruned unless every earlier
step succeeded, and a failure never leaves a partial file under a final name.
"""

import contextlib
import functools
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator

from .. import lock
from ..box import BackupBox, backup_box
from ..commands import files as files_cmd
from ..commands import rclone as rclone_cmd
from ..context import OpsContext
from ..errors import BackupError, CommandFailed, OffsiteError, UnsafeOperation
from ..remote import offsite, uploads_store
from ..remote.rclone_progress import Transfer
from ..runbook import Runbook, Step
from ..sets import files, manifest, names, sets, uploads_list, verify
from ..stack.serving import with_serving_tag
from . import catalog, clock, clock_state, host_paths, prune, remote_hashes, retention
from .dump import DumpResult, dump_database, remove_leftover_partials

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Preflight:
    server_version_num: int
    dump_major: int
    free_bytes: int
    required_free_bytes: int
    last_dump_bytes: int
    leftover_partials: list[str]
    clock: str  # the clock check's verdict (clock.AGREED, ...), and why
    clock_reason: str


@dataclass
class BackupRun:
    ctx: OpsContext
    box: BackupBox
    now: datetime
    identity: names.Identity
    set_name: str
    preflight: Preflight | None = None
    dump: DumpResult | None = None
    uploads: dict | None = None
    uploads_objects: set[str] = field(default_factory=set)  # store objects this run's list references
    paths: dict | None = None  # the archive of [backup] paths
    manifest: dict | None = None
    remote: offsite.RemoteStatus | None = None
    peeked: list[offsite.RemoteFile] | None = None  # the remote folder as the preflight listed it
    uploaded: list[str] = field(default_factory=list)
    transferred: list[dict] = field(default_factory=list)  # each offsite copy's final figures (rclone's last stats)
    timings: dict[str, float] = field(default_factory=dict)
    # The directory and the remote folder are listed once; the files this run writes, uploads or
    # removes are added or taken off here, so later steps need no second listing.
    local_files: list[str] = field(default_factory=list)
    local_sizes: dict[str, int] = field(default_factory=dict)  # the same listing's sizes, and those written since
    remote_files: list[str] = field(default_factory=list)
    remote_sizes: dict[str, int] = field(default_factory=dict)  # the same listing's sizes, for the upload
    # This stack's remote files whose size or hash differs from the fingerprint recorded in state_dir, and
    # those offsite with none recorded yet (remote_hashes.py): sent again when the local file exists.
    damaged: list[str] = field(default_factory=list)
    unproven: list[str] = field(default_factory=list)
    local_prune: prune.PruneResult | None = None
    remote_prune: prune.PruneResult | None = None
    local_collect: uploads_store.Collected | None = None
    remote_collect: uploads_store.Collected | None = None
    accept_clock: bool = False  # the operator says the clock is right after a long pause in backups
    clock_check: clock.ClockCheck | None = None
    clock_saw_remote: bool = False  # the clock check compared with the remote's sets (it was reachable)
    allow_mass_prune: bool = False  # the operator allows more than [retention] max_deletions_per_run
    # Local set files read this run, by name: a file under its final name is never rewritten (mv
    # --no-clobber), and only sets retention deletes go, which are not read after.
    read_texts: dict[str, str] = field(default_factory=dict)

    @property
    def directory(self) -> str:
        return self.ctx.config.backup.directory

    def path(self, kind: str) -> str:
        return f"{self.directory}/{files.file_name(self.set_name, kind)}"

    def read_local(self, name: str) -> str:
        """A local set file's text, read once per run."""
        if name not in self.read_texts:
            self.read_texts[name] = self.box.run(files_cmd.read(f"{self.directory}/{name}"), limit="command").stdout
        return self.read_texts[name]

    def wrote(self, path: str, size: int) -> None:
        name = path.rsplit("/", 1)[-1]
        self.local_files.append(name)
        self.local_sizes[name] = size

    @property
    def current_files(self) -> list[str]:
        """The files of the set this run wrote."""
        kinds = ["dump", *(["uploads"] if self.uploads and "file" in self.uploads else []),
                 *(["uploads_list"] if self.uploads else []), *(["paths"] if self.paths else []), "manifest"]
        return [files.file_name(self.set_name, kind) for kind in kinds]

    @property
    def store(self) -> str:
        return uploads_store.store_dir(self.identity.project)

    @property
    def store_path(self) -> str:
        return f"{self.directory}/{self.store}"


def start(ctx: OpsContext, box: BackupBox, now: datetime | None = None, accept_clock: bool = False,
          allow_mass_prune: bool = False) -> BackupRun:
    now = now or datetime.now(timezone.utc)
    identity = sets.identity_of(ctx)
    return BackupRun(ctx, box, now, identity, names.set_name(identity, now), accept_clock=accept_clock,
                     allow_mass_prune=allow_mass_prune)


@contextlib.contextmanager
def open_run(ctx: OpsContext, *, break_stale_lock: bool = False, locked: bool = False,
             accept_clock: bool = False, now: datetime | None = None,
             allow_mass_prune: bool = False) -> Iterator[BackupRun]:
    """A backup run of the serving release: the lock (unless the caller holds it) and one backup
    container for every step, both released on every exit."""
    ctx = with_serving_tag(ctx)
    with contextlib.ExitStack() as stack:
        if not locked:
            stack.enter_context(lock.hold_stack(ctx.config, "backup", break_stale=break_stale_lock))
        box = stack.enter_context(backup_box(ctx, host_paths.mounts(ctx.config.backup.paths)))
        yield start(ctx, box, now, accept_clock=accept_clock, allow_mass_prune=allow_mass_prune)


def run_preflight(run: BackupRun) -> Preflight:
    """Database reachable, the dump tool not older than the server, enough free disk; refuse otherwise."""
    box, cfg = run.box, run.ctx.config.backup
    server = run.ctx.engine.check_dump_client(box)
    listing = files.list_files(box, run.directory)
    leftovers = remove_leftover_partials(box, run.directory, listing)
    run.local_files = [f.name for f in listing if f.name not in leftovers]
    run.local_sizes = {f.name: f.size for f in listing if f.name not in leftovers}
    last = max((f.size for f in listing if f.name.endswith(run.ctx.engine.dump_suffix)), default=0)
    required = max(cfg.min_free_bytes, int(cfg.free_space_factor * last))
    free = files.free_bytes(box, run.directory)
    if free < required:
        raise BackupError(
            f"only {free} bytes free in the backups volume, need {required} "
            f"({cfg.free_space_factor}x the last dump of {last} bytes): free space or lower local_keep_days"
        )
    run.clock_check = judge_clock(run, peek_remote(run))
    run.preflight = Preflight(server.server_version_num, server.client_major, free, required, last, leftovers,
                              run.clock_check.verdict, run.clock_check.reason)
    return run.preflight


def peek_remote(run: BackupRun) -> list[str] | None:
    """The remote folder's file names for the clock check, or None when offsite is off or the remote cannot
    be listed yet (the remote step then names the problem, and prune_remote judges the clock again). The
    listing is kept for the remote step: nothing is written there before it."""
    if not run.ctx.config.offsite.enabled:
        return None
    try:
        run.peeked = offsite.list_remote(run.box, remote_path(run))
    except (OffsiteError, ValueError):
        return None
    return [f.name for f in run.peeked]


def remote_path(run: BackupRun) -> str:
    return run.ctx.config.offsite.path(run.ctx.config.stack.environment)


def local_manifest(run: BackupRun, set_name: str) -> dict:
    return manifest.read(run.box, f"{run.directory}/{files.file_name(set_name, 'manifest')}")


def _remote_manifest(run: BackupRun, set_name: str) -> dict:
    """A set's manifest, read on local disk when it is there, else from the remote."""
    name = files.file_name(set_name, "manifest")
    if name in run.local_files:
        return manifest.read(run.box, f"{run.directory}/{name}")
    return json.loads(run.box.run(rclone_cmd.cat(f"{remote_path(run)}/{name}"), limit="command").stdout)


def judge_clock(run: BackupRun, remote_names: list[str] | None) -> clock.ClockCheck:
    """The clock against the newest trusted reference: local sets, state_dir, the remote's sets (when listed)."""
    earlier, _ = sets.to_sets(run.local_files, run.identity)
    # A set both here and on the remote is judged by one reading of its local manifest.
    read = functools.cache(lambda name: _remote_manifest(run, name))
    references = [clock.newest_trusted(run.box, run.directory, earlier, read),
                  clock_state.last_trusted(run.ctx.config.deploy.state_dir, run.identity)]
    if remote_names is not None:
        run.clock_saw_remote = True
        remote, _ = sets.to_sets(remote_names, run.identity)
        remote = [s for s in remote if s.name != run.set_name]
        earlier += remote
        references.append(clock.newest_trusted(run.box, run.directory, remote, read))
    return clock.judge(run.now, clock.newest(*references),
                       timedelta(hours=run.ctx.config.backup.max_clock_gap_hours), run.accept_clock,
                       earlier_exist=any(s.verified for s in earlier))


def run_dump(run: BackupRun) -> DumpResult:
    """Dump under a partial name, verify it is restorable, checksum it, give it its final name."""
    started = time.monotonic()
    run.dump = dump_database(run.ctx.engine, run.box, run.directory, run.set_name)
    run.wrote(run.dump.path, run.dump.size)
    run.timings["dump"] = time.monotonic() - started
    return run.dump


def run_uploads(run: BackupRun) -> dict | None:
    """Back up the uploads volume, if enabled: into the store (default) or as a tar.gz in the set. None
    when the app keeps no files ([volumes] uploads = "")."""
    cfg = run.ctx.config.backup
    if not cfg.uploads_archive or not run.ctx.config.volumes.uploads:
        run.uploads = None
        return None
    return run_uploads_store(run) if cfg.uploads_store else run_uploads_archive(run)


def run_uploads_store(run: BackupRun) -> dict:
    """Copy every uploads file the store lacks into it (hashed while copied, renamed when whole) and
    write the set's list (path, size, sha256, mode): the list is all the set holds of the uploads."""
    started = time.monotonic()
    found = uploads_store.store(run.box, run.ctx.config.backup.uploads_path, run.store_path)
    walked = uploads_store.listed_part(found)
    listed = uploads_list.write(run.box, run.path("uploads_list"), walked)
    run.wrote(run.path("uploads_list"), listed["size"])
    run.uploads_objects = uploads_store.referenced(walked)
    run.timings["uploads"] = time.monotonic() - started
    run.uploads = {"store": run.store, "objects": len(run.uploads_objects),
                   "new_objects": len(found["new_objects"]), "new_bytes": found["new_bytes"], "list": listed}
    return run.uploads


def run_uploads_archive(run: BackupRun) -> dict:
    """Archive the uploads volume beside the dump, and list what the archive holds (path, size,
    sha256, mode) for the restore drill; both under partial names until complete."""
    cfg = run.ctx.config.backup
    final = run.path("uploads")
    started = time.monotonic()
    run.box.run(files_cmd.archive(cfg.uploads_path, final + files.PARTIAL), limit="dump")
    size = files.size(run.box, final + files.PARTIAL)
    checksum = files.sha256(run.box, final + files.PARTIAL)
    # Listed from the archive, not the live volume: a file the app writes meanwhile cannot make them disagree.
    listed = uploads_list.write(run.box, run.path("uploads_list"),
                                uploads_list.walk(run.box, "archive", final + files.PARTIAL))
    run.wrote(run.path("uploads_list"), listed["size"])
    run.box.run(files_cmd.rename(final + files.PARTIAL, final), limit="command")
    run.wrote(final, size)
    run.timings["uploads"] = time.monotonic() - started
    run.uploads = {"file": final.rsplit("/", 1)[-1], "size": size, "sha256": checksum, "list": listed}
    return run.uploads


def no_host_paths(run: BackupRun) -> str | None:
    if not run.ctx.config.backup.paths:
        return "no host paths to archive ([backup] paths is empty)"
    return None


def run_paths(run: BackupRun) -> dict:
    """Archive the [backup] paths (host directories the app keeps on bind mounts) into the set, hashed
    and listed before it gets its final name."""
    started = time.monotonic()
    run.paths = host_paths.archive(run.box, run.ctx.config.backup.paths, run.path("paths"),
                                   run.ctx.config.timeouts.dump_seconds)
    run.wrote(run.path("paths"), run.paths["size"])
    run.timings["paths"] = time.monotonic() - started
    return run.paths


def run_manifest(run: BackupRun) -> dict:
    """Write the manifest (row counts, revision, checksums) last: a manifest on disk means a complete set."""
    finished = datetime.now(timezone.utc)
    run.manifest = manifest.build(
        set_name=run.set_name, identity=run.identity, engine=run.ctx.engine.name, tag=run.ctx.tag, dump=run.dump, uploads=run.uploads,
        started_at=run.now.isoformat(timespec="seconds"), finished_at=finished.isoformat(timespec="seconds"),
        duration=(finished - run.now).total_seconds(), clock=run.clock_check.verdict, paths=run.paths,
        dump_tool_major=run.preflight.dump_major,
    )
    run.wrote(run.path("manifest"), manifest.write(run.box, run.path("manifest"), run.manifest))
    if run.clock_check.trusted:
        clock_state.record(run.ctx.config.deploy.state_dir, run.identity, run.set_name, run.now)
    return run.manifest


def run_verify(run: BackupRun) -> dict:
    """The set on disk agrees with its manifest."""
    return verify.verify_written(run.box, run.directory, run.set_name, run.manifest)


def complete_local_files(run: BackupRun) -> list[str]:
    """Files of local sets that have a manifest (complete and verified), oldest set first."""
    return sets.complete_files(run.local_files, run.identity)


def offsite_disabled(run: BackupRun) -> str | None:
    if not run.ctx.config.offsite.enabled:
        return "offsite copies are disabled in the config ([offsite] enabled = false)"
    return None


def run_remote_status(run: BackupRun) -> offsite.RemoteStatus:
    """The remote is configured and reachable (its folder created when missing); its files listed once
    (the preflight's listing when it had one)."""
    cfg = run.ctx.config
    run.remote, listed = offsite.reach(run.box, cfg.offsite.path(cfg.stack.environment), run.peeked)
    if not run.remote.crypt and not cfg.offsite.plaintext:
        raise BackupError(
            f"[offsite] remote = {cfg.offsite.remote!r} is a {run.remote.remote_type} remote, not an rclone crypt "
            "remote: offsite copies must be encrypted (seeds 001 and 004). Create a crypt remote over it "
            "(docs/BACKUPS.md section 5) and name it in [offsite] remote, or set [offsite] plaintext = true to "
            "upload unencrypted (every backup and drill report then says so)")
    run.remote_files = [f.name for f in listed]
    run.remote_sizes = {f.name: f.size for f in listed}
    fingerprint_remote(run, listed)
    return run.remote


def ours(run: BackupRun, listing: list[offsite.RemoteFile]) -> list[offsite.RemoteFile]:
    mine = set(names.group_files([f.name for f in listing], run.identity))
    return [f for f in listing if (p := names.parse_set_name(f.name)) is not None and p.name in mine]


def fingerprint_remote(run: BackupRun, listed: list[offsite.RemoteFile]) -> None:
    """Compare each of this stack's remote files with its recorded fingerprint; record those seen for the
    first time as found (a set only the remote holds has no local file to check it against)."""
    state_dir, where = run.ctx.config.deploy.state_dir, run.remote.path
    current = remote_hashes.fingerprints(run.box, run.remote, ours(run, listed))
    recorded = catalog.fingerprints(state_dir, run.identity, where)
    run.damaged = remote_hashes.disagreeing(recorded, current)
    run.unproven = sorted(n for n in current if n not in recorded)
    catalog.record_fingerprints(state_dir, run.identity, where, {**current, **recorded})


def record_checked(run: BackupRun, checked: list[str]) -> None:
    """Record the fingerprints of files just sent and checked against the local copy by hash."""
    if not checked:
        return
    state_dir, where = run.ctx.config.deploy.state_dir, run.remote.path
    # Sizes as the remote shows them now; hashes asked of these files only.
    listed = [offsite.RemoteFile(n, size, {}) for n, size in run.local_sizes.items() if n in set(checked)]
    now = remote_hashes.fingerprints(run.box, run.remote, listed)
    catalog.record_fingerprints(state_dir, run.identity, where,
                                {**catalog.fingerprints(state_dir, run.identity, where), **now})


def objects_to_push(run: BackupRun) -> set[str]:
    """Store objects of this set and of every local set whose list the remote lacks."""
    missing = [n for n in complete_local_files(run) if n not in set(run.remote_files)]
    earlier = [n for n in uploads_store.lists_of(missing, {names.parse_set_name(n).name for n in missing})
               if not n.startswith(run.set_name + ".")]
    objects = set(run.uploads_objects)
    for name in earlier:
        objects |= uploads_store.referenced(uploads_list.parse(run.read_local(name)))
    return objects


def run_upload(run: BackupRun) -> list[str]:
    """Upload every complete local set the remote lacks (this one and any a failed run left behind):
    first the store objects their lists reference, then the sets' files; both checked by hash. rclone's
    stats are shown live; its final figures are kept in run.transferred."""
    started = time.monotonic()
    transfer = Transfer("upload")
    uploads_store.push(run.box, run.store_path, run.remote, run.store, objects_to_push(run), transfer)
    run.uploaded = offsite.upload(run.box, run.directory, run.remote, complete_local_files(run),
                                  run.current_files, run.remote_sizes, transfer, run.local_sizes,
                                  resend=sorted(set(run.damaged) | set(run.unproven)))
    record_checked(run, run.uploaded)
    run.transferred = transfer.copies
    run.remote_files += [n for n in run.uploaded if n not in run.remote_files]
    run.timings["offsite"] = time.monotonic() - started
    return run.uploaded


def local_policy(run: BackupRun) -> retention.RetentionPolicy:
    cfg = run.ctx.config.backup
    return retention.local_policy(cfg.local_keep_days, daily=cfg.daily, weekly=cfg.weekly,
                                  fortnightly=cfg.fortnightly, monthly=cfg.monthly)


def remote_policy(run: BackupRun) -> retention.RetentionPolicy:
    cfg = run.ctx.config.offsite
    return retention.remote_policy(cfg.keep_days, daily=cfg.daily, weekly=cfg.weekly,
                                   fortnightly=cfg.fortnightly, monthly=cfg.monthly)


def refuse_untrusted_clock(run: BackupRun) -> None:
    """Retention measures age against now: never prune on a clock that disagrees with the history."""
    if not run.clock_check.trusted:
        raise UnsafeOperation(f"not pruning: {run.clock_check.reason}")


def limits(run: BackupRun) -> prune.Limits:
    cfg = run.ctx.config.retention
    return prune.Limits(cfg.min_sets, cfg.max_deletions_per_run, run.allow_mass_prune)


def store_grace(run: BackupRun) -> timedelta:
    return timedelta(hours=run.ctx.config.retention.store_grace_hours)


def kept_lists(run: BackupRun, result: prune.PruneResult, read_manifest) -> list[str]:
    """The file lists the store keeps objects for: those of the sets this prune KEPT (its decision, not
    what a later listing shows) and of the project's other sets (any environment or database: all may
    reference the project's store); a kept set whose list is missing refuses the collection."""
    kept = {v.set.name for v in result.decision.keep}
    return uploads_store.kept_lists(kept, result.listing_after, run.identity, read_manifest, result.where)


def run_prune_local(run: BackupRun) -> prune.PruneResult:
    """Delete what the local policy does not keep; list the directory again as proof."""
    refuse_untrusted_clock(run)
    run.local_prune = prune.prune_local(run.box, run.directory, run.local_files, run.identity,
                                        local_policy(run), run.now, limits(run))
    run.local_collect = uploads_store.collect_local(run.box, run.directory, run.store,
                                                    kept_lists(run, run.local_prune, lambda n: local_manifest(run, n)),
                                                    run.now, store_grace(run), run.read_local)
    return run.local_prune


def run_prune_remote(run: BackupRun) -> prune.PruneResult:
    """Delete what the offsite policy does not keep, judged on a fresh listing that must show every set
    uploaded or checked this run; list the remote again as proof; then collect the remote store."""
    if not run.clock_saw_remote:  # the remote could not be listed at preflight: its sets are a reference too
        run.clock_check = judge_clock(run, run.remote_files)
    refuse_untrusted_clock(run)
    listing = offsite.list_remote(run.box, run.remote.path)
    state_dir = run.ctx.config.deploy.state_dir
    # Remote copies that disagree with their fingerprint and were not sent again (no local file): not verified.
    damaged = {names.parse_set_name(n).name for n in run.damaged if n not in run.uploaded}
    run.remote_prune = prune.prune_remote(
        run.box, run.remote, listing, run.identity, remote_policy(run), run.now, limits(run),
        must_have=set(names.group_files(complete_local_files(run), run.identity)), local_sizes=run.local_sizes,
        remembered=catalog.recorded(state_dir, run.identity, run.remote.path), damaged=damaged)
    catalog.record(state_dir, run.identity, run.remote.path, run.remote_prune.sets_after)
    left = set(run.remote_prune.listing_after)
    catalog.record_fingerprints(state_dir, run.identity, run.remote.path,
                                {n: p for n, p in catalog.fingerprints(state_dir, run.identity, run.remote.path).items()
                                 if n in left})
    lists = set(kept_lists(run, run.remote_prune, lambda n: _remote_manifest(run, n)))
    # Every set kept locally is offsite too (uploaded and checked): its objects stay, whatever the remote listing shows.
    lists |= set(uploads_store.lists_of(run.local_prune.listing_after,
                                        {v.set.name for v in run.local_prune.decision.keep}))
    # On first sight the listing has nothing to be compared with: the store's collection waits with the
    # sets' pruning (every object counts as young).
    grace = run.now - EPOCH if run.remote_prune.deferred else store_grace(run)
    run.remote_collect = uploads_store.collect_remote(run.box, run.remote, run.store, sorted(lists),
                                                      run.directory, set(run.local_prune.listing_after),
                                                      run.now, grace, run.read_local)
    return run.remote_prune


BACKUP = Runbook("backup", (
    Step("preflight", run_preflight),
    Step("dump", run_dump),
    Step("uploads", run_uploads),
    Step("paths", run_paths, skip_reason=no_host_paths),
    Step("manifest", run_manifest),
    Step("verify", run_verify),
    Step("remote", run_remote_status, skip_reason=offsite_disabled),
    Step("upload", run_upload, skip_reason=offsite_disabled),
    Step("prune_local", run_prune_local),
    Step("prune_remote", run_prune_remote, skip_reason=offsite_disabled),
))


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
    local_store: uploads_store.Collected | None = None  # the garbage collections after retention
    remote_store: uploads_store.Collected | None = None
    remote_status: offsite.RemoteStatus | None = None  # the remote as found (crypt or not); None when disabled


def backup(ctx: OpsContext, *, break_stale_lock: bool = False, locked: bool = False,
           accept_clock: bool = False, now: datetime | None = None, allow_mass_prune: bool = False) -> BackupResult:
    """Run the whole backup runbook under the lock; prune only after every other step succeeded.
    `now` is the host's clock unless given (what retention measures age against)."""
    with open_run(ctx, break_stale_lock=break_stale_lock, locked=locked, accept_clock=accept_clock,
                  now=now, allow_mass_prune=allow_mass_prune) as run:
        BACKUP.run_all(run)
        return BackupResult(run.set_name, run.dump.path, run.dump.size, run.dump.sha256, run.manifest,
                            run.uploaded, run.local_prune, run.remote_prune, run.timings,
                            run.local_collect, run.remote_collect, run.remote)
