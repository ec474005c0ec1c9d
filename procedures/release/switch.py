"""Put the app on a TAG and prove it serves: the move deploy and rollback share."""

from .. import ledger
from ..context import OpsContext
from ..stack import readiness, services
from . import start_first, switch_plan
from .tags import validate_tag


def app_services(ctx: OpsContext) -> list[str]:
    """The services a release switch touches: app, workers and the proxy."""
    return ctx.config.services.serving


def switch_release(ctx: OpsContext, planned: switch_plan.Plan | None = None) -> dict:
    """Put app, worker and proxy on ctx.tag, each the way switch_plan chose: start-first services
    first (a failure there leaves everything on the old release), then single-instance services
    stopped before their new container starts, so two versions of them (the email worker) never
    run at once, whatever compose's recreate order; compose recreates the rest. planned: the plan the
    deploy's preflight showed (made here when not given)."""
    started_at = ledger.now()
    plans, proxy = planned or switch_plan.plan(ctx)
    moved = [start_first.switch(ctx, p, proxy)
             for p in plans if p.how == switch_plan.START_FIRST]
    single = [p.service for p in plans if p.how == switch_plan.STOP_FIRST]
    if single:
        ctx.compose.stop(single)
    ctx.compose.up(app_services(ctx), no_deps=True)
    return {"started_at": started_at, "finished_at": ledger.now(), "proxy": proxy.describe() if proxy else None,
            "services": moved + [p.describe() for p in plans if p.how != switch_plan.START_FIRST]}


def put_app_on(ctx: OpsContext, tag: str) -> dict:
    """Put the app back on TAG (no migration, no restore) and prove it serves."""
    target = ctx.with_tag(validate_tag(tag))
    switched = switch_release(target)
    services.wait_healthy(target.compose, app_services(ctx), timeout=ctx.config.http.ready_timeout_seconds)
    return {**readiness.check_ready(target), "smoke": readiness.smoke(target), "switch": switched}
