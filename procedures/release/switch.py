"""Put the app on a TAG and prove it serves: the move deploy and rollback share."""

from ..context import OpsContext
from ..stack import readiness, services
from .tags import validate_tag


def app_services(ctx: OpsContext) -> list[str]:
    """The services a release switch touches: app, workers and the proxy."""
    return ctx.config.services.serving


def switch_release(ctx: OpsContext) -> None:
    """Put app, worker and proxy on ctx.tag; single-instance services are stopped first, so two
    versions of them (the email worker) never run at once, whatever compose's recreate order."""
    single = list(ctx.config.services.single_instance)
    if single:
        ctx.compose.stop(single)
    ctx.compose.up(app_services(ctx), no_deps=True)


def put_app_on(ctx: OpsContext, tag: str) -> dict:
    """Put the app back on TAG (no migration, no restore) and prove it serves."""
    target = ctx.with_tag(validate_tag(tag))
    switch_release(target)
    services.wait_healthy(target.compose, app_services(ctx), timeout=ctx.config.http.ready_timeout_seconds)
    return {**readiness.check_ready(target), "smoke": readiness.smoke(target)}
