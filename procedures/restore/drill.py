"""The restore runbook: the monthly drill (test mode) and the disaster restore, as one list of steps.

    test:     choose -> throwaway server -> restore -> counts -> revision -> samples -> uploads -> paths
              -> times
    disaster: confirm -> choose -> stop writers -> new volume -> restore -> counts -> revision
              -> samples -> new uploads volume -> switch -> readiness -> times
              -> where the stack stands (always)

`RESTORE` lists the steps once: `restore(ctx, options)` runs a mode's steps, and
ops_checks/restore_drill.py runs and asserts them one by one. Test mode never touches the live
database or uploads; disaster mode restores into NEW volumes (database and, when the set has them,
uploads), switches both together and keeps the old ones. Each disaster step that
changes the live stack checks CONFIRM=YES itself, and from the moment the writers are stopped until
the switch succeeded, every exit (a failure, Ctrl-C, SIGTERM or SIGHUP) starts them again on the old volume.
"""

import contextlib
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Iterator

from .. import lock
from ..box import BackupBox, backup_box
from ..context import OpsContext
from ..engines.targets import DATABASE, VOLUME
from ..errors import RestoreError
from ..runbook import TEST_MODE, Runbook, Step
from ..sets import manifest
from ..sets.chosen import Chosen
from ..sets.sets import identity_of
from ..stack import readiness
from ..stack.serving import with_serving_tag
from . import compare, disaster, from_remote, host_paths, offsite_copy, uploads, url_switch, volume_switch
from .choose import choose_backup
from .throwaway import throwaway_server

DISASTER_MODE = "disaster"


@dataclass(frozen=True)
class RestoreOptions:
    mode: str = TEST_MODE
    requested: str | None = None  # a set name or file; None: the newest verified set
    from_remote: bool = False
    keep: bool = False  # test mode: keep the throwaway server and volume for inspection
    break_stale_lock: bool = False


@dataclass
class RestoreRun:
    """One restore: its options, and what each step found, for the steps after it and the evidence."""

    ctx: OpsContext
    options: RestoreOptions
    cleanup: contextlib.ExitStack
    # The writers' restart until the switch succeeded (then popped): closed by cleanup on every exit.
    writers: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    box: BackupBox | None = None
    confirmed: bool = False
    chosen: Chosen | None = None
    server: object | None = None
    uploads_volume: str | None = None  # disaster mode: the new volume the uploads were restored into
    stopped: list[str] = field(default_factory=list)
    # The decision to restore (the run opened, before the set is chosen or downloaded): where RTO starts.
    decided: float = field(default_factory=time.monotonic)
    started: float | None = None  # the restore target's start (test) or the app's stop (disaster)
    offsite: offsite_copy.OffsiteCopies | None = None  # the remote's copies, looked up once the set is chosen
    switch: "volume_switch.SwitchResult | url_switch.UrlSwitchResult | None" = None
    switched_ctx: OpsContext | None = None
    record: dict = field(default_factory=dict)  # fields for the drill record (seed 004's template)

    @property
    def mode(self) -> str:
        return self.options.mode

    @property
    def keeps_server(self) -> bool:
        return self.options.keep and self.mode == TEST_MODE


@contextlib.contextmanager
def open_run(ctx: OpsContext, options: RestoreOptions) -> Iterator[RestoreRun]:
    """A restore run; what its steps start (lock, backup container, servers) is undone on exit."""
    with contextlib.ExitStack() as cleanup:
        yield RestoreRun(ctx, options, cleanup)


def confirm(run: RestoreRun) -> dict:
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    disaster.require_confirmation()
    disaster.require_volume_engine(run.ctx)
    run.confirmed = True
    return {"CONFIRM": "YES"}


def choose(run: RestoreRun) -> dict:
    """Under the operations lock, with one backup container: choose the newest verified backup (or the
    requested one; from the remote it is downloaded first) and re-check its checksums."""
    run.ctx = with_serving_tag(run.ctx)
    run.cleanup.enter_context(lock.hold_stack(run.ctx.config, f"restore ({run.mode})",
                                              break_stale=run.options.break_stale_lock))
    run.box = run.cleanup.enter_context(backup_box(run.ctx))
    if run.options.from_remote:
        run.chosen = from_remote.fetch_set(run.ctx, run.box, run.options.requested)
        if not run.options.keep:
            run.cleanup.callback(from_remote.remove_fetched, run.ctx, run.box, run.chosen)
    else:
        run.chosen = choose_backup(run.ctx, run.box, run.options.requested)
    chosen = run.chosen
    facts = {"backup_set": chosen.set_name, "backup_file": chosen.dump_file,
             "backup_sha256": chosen.manifest["dump"]["sha256"], "backup_taken_at": chosen.manifest["started_at"],
             "backup_age_hours": round(chosen.age_seconds / 3600, 2),
             "backup_source": "remote" if run.options.from_remote else "local", "mode": run.mode}
    if run.options.from_remote:
        facts["offsite_encryption"] = (f"decrypted through {chosen.decrypted_through}: checksums equal the manifest's"
                                       if chosen.decrypted_through else "NOT ENCRYPTED: the remote is not a crypt remote")
        facts["downloaded"] = chosen.downloaded
    run.offsite = offsite_copy.look_up(run.ctx, run.box, chosen.set_name, identity_of(run.ctx))
    facts["offsite_copy"] = _describe_offsite(run.offsite)
    run.record.update(facts)
    return facts


def stop_writers(run: RestoreRun) -> list[str]:
    """Stop the app services so nothing writes to the database being replaced (their restart on the old
    volume is registered first, undone only by a successful switch)."""
    disaster.require_confirmation()
    run.started = time.monotonic()
    run.cleanup.enter_context(run.writers)  # after the lock and the backup container: unwound before them
    run.stopped = disaster.stop_writers(run.ctx, run.writers)
    return run.stopped


def start_throwaway_server(run: RestoreRun):
    """Start a throwaway server: no network, a fresh volume of its own, backups read-only."""
    run.started = time.monotonic()
    run.server = run.cleanup.enter_context(
        throwaway_server(run.ctx, run.box, run.chosen.manifest["database"],
                         server_version_num=manifest.restorable_by(run.chosen.manifest), keep=run.options.keep))
    return run.server


def start_server_on_new_volume(run: RestoreRun):
    """Create a NEW database volume and start an isolated server on it (the live volume is not touched);
    for a database outside the stack, a NEW database on its server (the live one is not touched)."""
    run.server = disaster.restore_target_for_disaster(run.ctx, run.box, run.chosen.set_name,
                                                      run.chosen.manifest["database"], run.cleanup,
                                                      server_version_num=manifest.restorable_by(run.chosen.manifest))
    run.record[f"new_{run.server.place}"] = run.server.name
    return run.server


def restore_dump(run: RestoreRun) -> dict:
    """Restore the dump with the configured parallel jobs (progress on the terminal: table i of the manifest's N)."""
    jobs = run.ctx.config.restore.jobs
    seconds = run.server.restore(run.chosen.dump_in_backups, jobs, run.chosen.manifest.get("table_count", 0))
    return {"jobs": jobs, "seconds": round(seconds, 2)}


def compare_row_counts(run: RestoreRun) -> list[dict]:
    """Table count and per-table row counts of the copy equal the dump's manifest; refuse otherwise."""
    rows = run.record["row_counts"] = compare.compare_counts(run.chosen.manifest, run.server.row_counts())
    mismatched = [r for r in rows if not r["match"]]
    if mismatched:
        raise RestoreError(f"row counts of the restored copy differ from the manifest: {mismatched}")
    return rows


def compare_revision(run: RestoreRun) -> dict:
    """The copy's schema revision equals the manifest's; refuse otherwise."""
    revision = run.record["revision"] = {"manifest": run.chosen.manifest["alembic_revision"],
                                         "restored": run.server.schema_revision()}
    if revision["manifest"] != revision["restored"]:
        raise RestoreError(f"schema revision of the restored copy differs from the manifest: {revision}")
    return revision


def run_samples(run: RestoreRun) -> list[dict]:
    """The configured sample queries return rows from the copy; refuse when one returns none."""
    results = run.record["samples"] = compare.run_samples(run.server, run.ctx.config.restore.sample_queries)
    if not all(r["rows"] > 0 for r in results):
        raise RestoreError(f"sample queries returned no rows from the restored copy: {results}")
    return results


def _switch_database(run: RestoreRun, reason: str) -> url_switch.UrlSwitchResult:
    """The app's URL moved to the new database on the same server."""
    disaster.require_confirmation()
    run.switch = url_switch.switch_database_url(run.ctx, run.server.name, reason)
    run.switched_ctx = run.ctx
    run.record["old_database"] = run.switch.from_database
    return run.switch


def _switch_volume(run: RestoreRun, reason: str) -> volume_switch.SwitchResult:
    """The service holding the data recreated on the new volume (and the app on the new uploads')."""
    disaster.retire_restore_target(run.server)
    run.switched_ctx, run.switch = volume_switch.switch_database_volume(run.ctx, run.server.volume, reason,
                                                                       run.uploads_volume)
    run.record.update({"old_volume": run.switch.from_volume, "old_uploads_volume": run.switch.from_uploads_volume})
    return run.switch


# Which switch puts the app on a disaster's copy, by what the copy replaces (the engine's data place).
_SWITCHES = {VOLUME: _switch_volume, DATABASE: _switch_database}


def switch_to_restored(run: RestoreRun):
    """Switch the stack to the restored copy: the db recreated on the new database volume, config updated,
    app started on the new uploads volume (both or neither), old volumes kept; or the app's URL moved to
    the new database, the old one kept."""
    _SWITCHES[run.server.place](run, f"disaster restore of {run.chosen.set_name}")
    run.writers.pop_all()  # the app serves the restored copy now: nothing to restart on the old data
    run.record["switch_back"] = run.switch.how_to_switch_back()
    return run.switch


def check_ready(run: RestoreRun) -> dict:
    """/readyz green through the reverse proxy and /version reports the TAG, on the restored database."""
    return readiness.check_ready(run.switched_ctx)


def measure_recovery(run: RestoreRun) -> dict:
    """RTO from the decision (the run's start, before the set was chosen and downloaded) to verified, or in
    disaster mode to serving; RPO the age of the newest verified offsite set now (the data a lost server
    would lose; null without an offsite copy); the restore alone and the restored set's age beside them."""
    now = time.monotonic()
    rpo = run.offsite.rpo_seconds(datetime.now(timezone.utc)) if run.offsite else None
    age = run.chosen.age_seconds
    measured = {"rto_seconds": round(now - run.decided, 2),
                "restore_seconds": round(now - run.started, 2) if run.started is not None else None,
                "rpo_seconds": rpo, "rpo_hours": round(rpo / 3600, 2) if rpo is not None else None,
                "rpo_set": run.offsite.newest if run.offsite else None,
                "set_age_seconds": round(age, 1)}
    run.record.update(measured)
    return measured


def _describe_offsite(copies: offsite_copy.OffsiteCopies) -> dict:
    if not copies.enabled:
        return {"enabled": False}
    return {"enabled": True, "remote": copies.remote, "crypt": copies.encrypted, "has this set": copies.has_set,
            "newest verified set": copies.newest,
            "newest at": copies.newest_at.isoformat(timespec="seconds") if copies.newest_at else None,
            "error": copies.error}


def leave_stack_serving(run: RestoreRun, failed_step: str | None) -> dict:
    """Say where the stack stands; after a failure before the switch, restart the app on the volume it kept."""
    if run.switch is not None:
        where = run.switch.where()
    else:
        run.writers.close()  # starts the app again if it was stopped
        where = {"serving from": run.ctx.config.volumes.database or run.ctx.engine.where(run.ctx),
                 "switched": False, "app stopped and started again": bool(run.stopped),
                 "restore target, kept for inspection": run.server.describe() if run.server else None,
                 "new uploads volume, kept for inspection": run.uploads_volume}
    run.record["stack"] = where
    if failed_step:
        raise RestoreError(f"disaster restore failed at {failed_step}; the stack serves from {where['serving from']}")
    return where


BOTH = (TEST_MODE, DISASTER_MODE)
RESTORE = Runbook("restore", (
    Step("confirm", confirm, modes=(DISASTER_MODE,)),
    Step("choose", choose, modes=BOTH),
    Step("stop_writers", stop_writers, modes=(DISASTER_MODE,)),
    Step("throwaway_server", start_throwaway_server, modes=(TEST_MODE,)),
    Step("new_volume", start_server_on_new_volume, modes=(DISASTER_MODE,)),
    Step("restore", restore_dump, modes=BOTH),
    Step("row_counts", compare_row_counts, modes=BOTH),
    Step("revision", compare_revision, modes=BOTH),
    Step("samples", run_samples, modes=BOTH),
    Step("uploads", uploads.restore_and_compare, modes=(TEST_MODE,), skip_reason=uploads.not_applicable),
    Step("paths", host_paths.extract_and_compare, modes=(TEST_MODE,), skip_reason=host_paths.not_applicable),
    Step("uploads_volume", uploads.restore_into_new_volume, modes=(DISASTER_MODE,),
         skip_reason=uploads.not_applicable_to_disaster),
    Step("switch", switch_to_restored, modes=(DISASTER_MODE,)),
    Step("ready", check_ready, modes=(DISASTER_MODE,)),
    Step("recovery_times", measure_recovery, modes=BOTH),
    Step("stack_left_serving", leave_stack_serving, modes=(DISASTER_MODE,), always_run=True),
))


def restore(ctx: OpsContext, options: RestoreOptions = RestoreOptions()) -> RestoreRun:
    """Run the restore runbook of options.mode; raises at the first failed step or comparison."""
    with open_run(ctx, options) as run:
        RESTORE.run_all(run, options.mode)
        return run
