"""A disaster restore for a database outside the stack (engine postgres-url): a NEW database on the
same server, the set restored into it from the backup service, then the app's URL switched to it.

The old database is never written or dropped. The switch rewrites the one line of [database]
url_file that sets the URL (the file as it was is kept beside it), restarts the serving services on
it and checks readiness; on any failure or interruption the file is put back and the services are
restarted on the old database.
"""

import contextlib
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .. import ledger
from ..commands import postgres as pg
from ..context import OpsContext
from ..errors import ConfigError, RestoreError, SwitchError
from ..stack import readiness, services
from . import config_edit

_RESTORED_SUFFIX = re.compile(r"_restored_\d{8}T\d{6}Z$")


def new_database_name(current: str, now: datetime) -> str:
    """<database>_restored_<UTC stamp>, within Postgres' 63 bytes; a second restore replaces the stamp."""
    stamp = f"_restored_{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    return _RESTORED_SUFFIX.sub("", current)[:63 - len(stamp)] + stamp


@dataclass
class NewDatabase:
    """A new database on the live server, reached from the backup container (the URL's route)."""

    box: object  # BackupBox: libpq's variables from the URL
    name: str
    backups: str  # where the backups volume is mounted in the box

    def query(self, sql: str) -> str:
        return self.box.run(pg.psql(sql, self.name)).stdout

    def restore(self, dump_in_backups: str, jobs: int) -> float:
        started = time.monotonic()
        self.box.run(pg.restore_over_url(f"{self.backups}/{dump_in_backups}", self.name, jobs))
        return time.monotonic() - started

    def describe(self) -> dict:
        return {"new database": self.name, "on": "the server the app's URL names"}


def create_new_database(ctx: OpsContext, box, now: datetime | None = None) -> NewDatabase:
    """CREATE DATABASE <current>_restored_<stamp> on the server, as the URL's user (it needs CREATEDB)."""
    name = new_database_name(ctx.database.database_name(), now or datetime.now(timezone.utc))
    try:
        box.run(pg.psql(pg.create_database_sql(name)))
    except Exception as e:
        raise RestoreError(f"could not create database {name} on the server ({e}); the URL's user needs "
                           "CREATEDB, or create it yourself and restore by hand (docs/RESTORE_RUNBOOK.md "
                           "section 8). Nothing else was changed") from e
    return NewDatabase(box, name, ctx.config.backup.directory)


@dataclass(frozen=True)
class UrlSwitchResult:
    from_database: str
    to_database: str
    url_file: str
    url_file_kept_as: str

    def how_to_switch_back(self) -> str:
        return (f"set {self.from_database!r} as the database of the URL in {self.url_file} (its copy before the "
                f"switch: {self.url_file_kept_as}), then `docker compose ... up -d --no-deps` the app services")

    def where(self) -> dict:
        return {"serving from": f"database {self.to_database}", "old database, kept": self.from_database,
                "switch back": self.how_to_switch_back()}


def switch_database_url(ctx: OpsContext, target: str, reason: str) -> UrlSwitchResult:
    """Point the app's URL at database target on the same server and restart the serving services on it."""
    url = ctx.database.url()
    previous = url.keywords["dbname"]
    path = ctx.config.url_file
    if path is None:
        raise ConfigError(f"[database] url_file is not set and the stack has no env_file: name the file that sets "
                          f"{ctx.config.database.url_variable}")
    if target == previous:
        raise SwitchError(f"the app already uses database {target}")
    serving = ctx.config.services.serving
    with contextlib.ExitStack() as undo:
        undo.callback(ctx.compose.up, serving, no_deps=True)  # runs last: the app on the old URL again
        kept = config_edit.set_env_value(Path(path), ctx.config.database.url_variable, url.with_database(target),
                                         kept_as=lambda copy: undo.callback(os.replace, copy, path))
        ctx.compose.up(serving, no_deps=True)
        services.wait_healthy(ctx.compose, serving, timeout=ctx.config.http.ready_timeout_seconds)
        now_using = ctx.database.url().keywords["dbname"]
        if now_using != target:
            raise SwitchError(f"the app's {ctx.config.database.url_variable} names {now_using}, not {target}")
        readiness.check_ready(ctx)
        undo.pop_all()  # switched: nothing to put back
    ledger.audit(ctx.config.deploy.state_dir, ctx.config.stack.project,
                 f"database switched from {previous} to {target} ({reason}); old database kept")
    return UrlSwitchResult(previous, target, str(path), str(kept))
