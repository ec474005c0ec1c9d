"""Run the app's migrations as a one-off task of ctx.tag: its own migrate service when it has one,
else [deploy] migrate_command in a one-off container of its first app service (never on app start)."""

from ..context import OpsContext
from ..errors import ConfigError
from ..runner import Completed


def run_migrations(ctx: OpsContext) -> Completed:
    """One-off migration of ctx.tag; refuses a named migrate service the compose model lacks."""
    names = ctx.config.services
    if names.migrate:
        if names.migrate not in ctx.compose.rendered().get("services", {}):
            raise ConfigError(f"[services] migrate = {names.migrate!r} is not a service of the compose model; name "
                              "the app's migrate service, or set it to \"\" to run [deploy] migrate_command in "
                              f"{names.app[0]}")
        return ctx.compose.run_once(names.migrate, limit="one_off")
    return ctx.compose.run_once(names.app[0], list(ctx.config.deploy.migrate_command), no_deps=True, limit="one_off")
