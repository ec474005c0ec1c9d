"""The stack's live Postgres, asked through its own container (local socket, no password on the wire)."""

from dataclasses import dataclass

from ...commands import compose as compose_cmd
from ...commands import postgres as pg


@dataclass(frozen=True)
class LiveDatabase:
    ctx: object  # OpsContext: the stack, and the TAG its overlay renders with

    def environment(self) -> dict:
        """The db service's environment as compose renders it."""
        service = self.ctx.config.services.database
        return self.ctx.compose.rendered()["services"][service].get("environment") or {}

    def credentials(self) -> tuple[str, str, str]:
        """The stack's database user, password and database name, as its db service is configured."""
        names, env = self.ctx.config.database, self.environment()
        user = env.get(names.user_variable) or "postgres"
        return user, env.get(names.password_variable) or "", env.get(names.name_variable) or user

    def database_name(self) -> str:
        """The database a backup dumps (the image's default, postgres, when none is configured)."""
        return self.environment().get(self.ctx.config.database.name_variable) or "postgres"

    def query(self, sql: str) -> str:
        """Run one SQL statement in the database service; returns tab-separated rows."""
        user, _, name = self.credentials()
        argv = compose_cmd.compose(self.ctx.config.stack, "exec", "-T", self.ctx.config.services.database,
                                   *pg.psql(sql, name)[:-1], "--username", user, "--dbname", name)
        return self.ctx.compose.run(argv, limit="command").stdout.strip()
