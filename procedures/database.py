"""Questions asked of the live database through its own container (local socket, no password)."""

from .commands import compose as compose_cmd
from .commands import postgres as pg
from .context import OpsContext

USER_TABLES_SQL = ("SELECT count(*) FROM information_schema.tables "
                   "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")


def credentials(ctx: OpsContext) -> tuple[str, str, str]:
    """The stack's database user, password and database name, as its db service is configured."""
    env = ctx.compose.rendered()["services"][ctx.config.services.database].get("environment") or {}
    user = env.get(ctx.config.database.user_variable) or "postgres"
    return user, env.get(ctx.config.database.password_variable) or "", env.get(ctx.config.database.name_variable) or user


def query(ctx: OpsContext, sql: str) -> str:
    """Run one SQL statement in the database service; returns tab-separated rows."""
    user, _, name = credentials(ctx)
    argv = compose_cmd.compose(ctx.config.stack, "exec", "-T", ctx.config.services.database,
                               *pg.psql(sql, name)[:-1], "--username", user, "--dbname", name)
    return ctx.compose.run(argv).stdout.strip()


def user_table_count(ctx: OpsContext) -> int:
    return int(query(ctx, USER_TABLES_SQL))


def alembic_revision(ctx: OpsContext) -> str:
    return query(ctx, pg.ALEMBIC_REVISION_SQL)


def system_identifier(ctx: OpsContext) -> str:
    """The cluster's identity: initdb gives every new cluster a new one, restarts never change it."""
    return query(ctx, "SELECT system_identifier FROM pg_control_system()")
