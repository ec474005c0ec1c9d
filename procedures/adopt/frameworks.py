"""Which migration framework an app uses, how it migrates and where it records its schema revision.

Pure decisions over facts: the compose model's commands and environment, and the files found in the
app image's working directory (gathered by image_facts.py). Each framework's migrate command is the
one its own docs give for production; its revision query reads the table the framework keeps, in SQL
that Postgres and SQLite both run (the suite reads it in both; procedures/commands/postgres.py and
engines/sqlite_copy.py), with its own spelling where MariaDB reads it otherwise (`||` is OR there,
group_concat takes a SEPARATOR).
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    name: str
    migrate_command: tuple[str, ...]
    table: str
    revision_sql: str  # one value: the latest applied migration
    files: tuple[str, ...]  # any of these in the image's working directory shows the framework
    words: re.Pattern  # ... or these in a service's command, entrypoint or environment names
    sqlite_revision_sql: str = ""  # when SQLite keeps the table elsewhere (Drizzle's own schema in Postgres)
    mariadb_revision_sql: str = ""  # when MariaDB (and MySQL) need other SQL

    def revision_query(self, engine: str) -> str:
        own = {"sqlite": self.sqlite_revision_sql, "mariadb": self.mariadb_revision_sql}.get(engine)
        return own or self.revision_sql


FRAMEWORKS = (
    Framework("django", ("python", "manage.py", "migrate", "--noinput"), "django_migrations",
              "SELECT (SELECT count(*) FROM django_migrations) || ' applied, last ' || app || '.' || name "
              "FROM django_migrations ORDER BY id DESC LIMIT 1",
              ("manage.py",), re.compile(r"manage\.py|django|\bgunicorn\b.*\bwsgi\b", re.I),
              mariadb_revision_sql="SELECT concat((SELECT count(*) FROM django_migrations), ' applied, last ', app, '.', "
                                   "name) FROM django_migrations ORDER BY id DESC LIMIT 1"),
    Framework("alembic", ("alembic", "upgrade", "head"), "alembic_version",
              "SELECT string_agg(version_num, ',') FROM alembic_version",
              ("alembic.ini",), re.compile(r"\balembic\b", re.I),
              sqlite_revision_sql="SELECT group_concat(version_num, ',') FROM alembic_version",
              mariadb_revision_sql="SELECT group_concat(version_num SEPARATOR ',') FROM alembic_version"),
    Framework("rails", ("bin/rails", "db:migrate"), "schema_migrations",
              "SELECT max(version) FROM schema_migrations",
              ("bin/rails", "config/application.rb"), re.compile(r"\brails\b|\bRAILS_ENV\b|\bpuma\b", re.I)),
    Framework("prisma", ("npx", "prisma", "migrate", "deploy"), "_prisma_migrations",
              "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL "
              "AND rolled_back_at IS NULL ORDER BY migration_name DESC LIMIT 1",
              ("prisma/schema.prisma", "schema.prisma"), re.compile(r"\bprisma\b", re.I)),
    Framework("knex", ("npx", "knex", "migrate:latest"), "knex_migrations",
              "SELECT name FROM knex_migrations ORDER BY id DESC LIMIT 1",
              ("knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs"), re.compile(r"\bknex\b", re.I)),
    # drizzle-kit keeps its journal in a schema of its own on Postgres, in the main database on SQLite and MySQL.
    Framework("drizzle", ("npx", "drizzle-kit", "migrate"), "__drizzle_migrations",
              "SELECT hash FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1",
              ("drizzle.config.ts", "drizzle.config.js", "drizzle.config.mjs", "drizzle.config.json"),
              re.compile(r"\bdrizzle", re.I),
              sqlite_revision_sql="SELECT hash FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1",
              mariadb_revision_sql="SELECT hash FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1"),
)
BY_NAME = {f.name: f for f in FRAMEWORKS}
_MIGRATING = re.compile(r"migrat|alembic\s+upgrade", re.I)
# Every path image_facts asks the image for, relative to its working directory.
MARKER_FILES = tuple(path for f in FRAMEWORKS for path in f.files)


@dataclass(frozen=True)
class Found:
    framework: Framework
    why: str
    certain: bool  # a file of the framework in the image, or its migrate command in the model; else a guess


def _command_of(service: dict) -> str:
    parts = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        parts.append(" ".join(value) if isinstance(value, list) else str(value))
    return " ".join(parts)


def identify(services: dict, names: list[str], image_files: dict[str, list[str]]) -> Found | None:
    """The framework of the first of `names` that shows one: a marker file in its image is surest, then
    the framework's name in its command or environment; None when nothing shows."""
    for name in names:
        files = set(image_files.get(name) or [])
        for framework in FRAMEWORKS:
            seen = [f for f in framework.files if f in files]
            if seen:
                return Found(framework, f"{seen[0]} in {name}'s image", True)
    for name in names:
        command = _command_of(services.get(name) or {})
        text = " ".join([command, *((services.get(name) or {}).get("environment") or {})])
        for framework in FRAMEWORKS:
            said = framework.words.search(text)
            if said:
                # Only a command that migrates proves it; a variable's name or a server's is a habit.
                certain = bool(framework.words.search(command) and _MIGRATING.search(command))
                return Found(framework, f"{name}'s command or environment says {said.group(0)!r}", certain)
    return None
