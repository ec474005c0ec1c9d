"""A disaster restore for a database outside the stack (engine postgres-url): a NEW database on the
same server, the set restored into it from the backup service, then the app's URL switched to it.

The old database is never written or dropped. The switch rewrites the one line of [database]
url_file that sets the URL (the file as it was is kept beside it), restarts the serving services on
it and checks readiness; on any failure or interruption the file is put back and the services are
restarted on the old database.
"""

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .. import ledger
from ..context import OpsContext
from ..errors import ConfigError, SwitchError
from ..stack import readiness, services
from . import config_edit, disaster

POSTGRES_NAME_LIMIT = 63  # bytes in a Postgres identifier

def create_new_database(ctx: OpsContext, box):
    """A NEW database on the live server, named <database>_restored_<UTC stamp>. Refused without CONFIRM=YES."""
    disaster.require_confirmation()
    name = disaster.new_volume_name(ctx.database.database_name(), datetime.now(timezone.utc), POSTGRES_NAME_LIMIT)
    return ctx.engine.create_database(box, name)


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
