"""A disaster restore for a database outside the stack (engine postgres-url): a NEW database on the
same server, the set restored into it from the backup service, then the app's URL switched to it.

The old database is never written or dropped. The switch rewrites the one line of [database]
url_file that sets the URL (the file as it was is kept beside it), restarts the serving services on
it and checks readiness; on any failure or interruption the file is put back and the services are
restarted on the old database. Going back is the same switch, as its own runbook:

    CONFIRM=YES pytest ops_checks/switch_database_url.py --database=NAME
"""

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import ledger, lock
from ..commands import postgres as pg
from ..context import OpsContext
from ..engines.targets import DATABASE
from ..errors import ConfigError, SwitchError
from ..guards import require_confirmation
from ..runbook import Runbook, Step
from ..stack import readiness, services
from ..stack.serving import with_serving_tag
from . import config_edit

@dataclass(frozen=True)
class UrlSwitchResult:
    from_database: str
    to_database: str
    url_file: str
    url_file_kept_as: str

    def how_to_switch_back(self) -> str:
        return url_switch_command(self.from_database)

    def where(self) -> dict:
        return {"serving from": f"database {self.to_database}", "old database, kept": self.from_database,
                "url file as it was": self.url_file_kept_as, "switch back": self.how_to_switch_back()}


def url_switch_command(database: str) -> str:
    return f"CONFIRM=YES pytest ops_checks/switch_database_url.py --database={database}"


def require_url_switch_confirmation(target: str) -> None:
    """Refuse, before anything changes, unless CONFIRM=YES is in this process's environment."""
    require_confirmation(os.environ, f"the switch restarts the app on database {target!r} of the same server "
                         "(the database it leaves is kept)", url_switch_command(target))


def switch_database_url(ctx: OpsContext, target: str, reason: str) -> UrlSwitchResult:
    """Point the app's URL at database target on the same server and restart the serving services on it;
    refused without CONFIRM=YES."""
    require_url_switch_confirmation(target)
    url = ctx.database.url()
    previous = ctx.database.in_use()
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
        now_using = ctx.database.in_use()
        if now_using != target:
            raise SwitchError(f"the app's {ctx.config.database.url_variable} names {now_using}, not {target}")
        readiness.check_ready(ctx)
        undo.pop_all()  # switched: nothing to put back
    ledger.audit(ctx.config.deploy.state_dir, ctx.config.stack.project,
                 f"database switched from {previous} to {target} ({reason}); old database kept")
    return UrlSwitchResult(previous, target, str(path), str(kept))


@dataclass
class UrlSwitchRun:
    ctx: OpsContext
    target: str | None
    break_stale_lock: bool = False
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    result: UrlSwitchResult | None = None


def confirm(run: UrlSwitchRun) -> dict:
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    require_url_switch_confirmation(run.target or "NAME")
    return {"CONFIRM": "YES"}


def target_checked(run: UrlSwitchRun) -> dict:
    """Under the operations lock: the target database exists on the server the URL names and is not
    the one the app uses."""
    if run.ctx.engine.data_place != DATABASE:
        raise ConfigError(f"[database] engine = {run.ctx.engine.name!r} keeps its database on a volume: use "
                          "`CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume=NAME`")
    if not run.target:
        raise ConfigError("no target database: pass --database=NAME (the disaster restore's report names the old one)")
    run.ctx = with_serving_tag(run.ctx)
    run.cleanup.enter_context(lock.hold_stack(run.ctx.config, "switch database url",
                                              break_stale=run.break_stale_lock))
    current = run.ctx.database.in_use()
    if run.target == current:
        raise SwitchError(f"the app already uses database {run.target}")
    if run.ctx.database.query(pg.database_exists_sql(run.target)).strip() != "1":
        raise ConfigError(f"database {run.target!r} does not exist on {run.ctx.database.url().describe()}; nothing "
                          "was changed (the disaster restore's report names the old database)")
    return {"from": current, "to": run.target, "server": run.ctx.engine.where(run.ctx)}


def switched(run: UrlSwitchRun) -> UrlSwitchResult:
    """Rewrite the URL's database in its env file, restart the serving services on it, check readiness."""
    run.result = switch_database_url(run.ctx, run.target, "switch by operator")
    return run.result


def ready_on_target(run: UrlSwitchRun) -> dict:
    """/readyz green through the reverse proxy on the target database, and /version reports the TAG."""
    return readiness.check_ready(run.ctx)


SWITCH_URL = Runbook("switch_database_url", (
    Step("confirm", confirm),
    Step("target", target_checked),
    Step("switch", switched),
    Step("ready", ready_on_target),
))
