"""argv builders and SQL for Postgres client tools; connection details come from PG* env vars."""

import re

from ..config import TimeoutsConfig

SERVER_VERSION_SQL = "SHOW server_version_num"
SERVER_VERSION_TEXT_SQL = "SHOW server_version"
SYSTEM_IDENTIFIER_SQL = "SELECT system_identifier FROM pg_control_system()"
USER_TABLES_SQL = ("SELECT count(*) FROM information_schema.tables "
                   "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")


def revision_sql(query: str) -> str:
    """[database] revision_query as one text value: '' when it returns no row or NULL; an error when it
    returns more than one row (a scalar subquery), so the schema revision is never a guess."""
    return f"SELECT coalesce(({query.strip().rstrip(';')})::text, '')"
_USER_BASE_TABLES = ("FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                     "AND table_schema NOT IN ('pg_catalog', 'information_schema')")
# Exact row counts of every user table, in one query (query_to_xml runs a count per table).
ROW_COUNTS_SQL = (
    "SELECT format('%I.%I', table_schema, table_name), "
    "(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', "
    f"table_schema, table_name), false, true, '')))[1]::text {_USER_BASE_TABLES} ORDER BY 1"
)
# The tables ROW_COUNTS_SQL counts, read from the catalog alone: no lock on any of them.
BASE_TABLE_COUNT_SQL = f"SELECT count(*) {_USER_BASE_TABLES}"
BEGIN_SNAPSHOT_SQL = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;"
EXPORT_SNAPSHOT_SQL = "SELECT pg_export_snapshot();"


def isready(timeout_seconds: int = 5) -> list[str]:
    return ["pg_isready", "--timeout", str(timeout_seconds)]


def psql(sql: str, database: str | None = None) -> list[str]:
    argv = ["psql", "--no-psqlrc", "--no-align", "--tuples-only", "--field-separator=\t",
            "--set", "ON_ERROR_STOP=1", "--command", sql]
    return argv + ([database] if database else [])


def psql_session() -> list[str]:
    """psql reading SQL from stdin, one result row per line, tab-separated."""
    return ["psql", "--no-psqlrc", "--no-align", "--tuples-only", "--field-separator=\t",
            "--set", "ON_ERROR_STOP=1"]


def dump(path: str, snapshot: str | None = None,
         lock_wait_seconds: int = TimeoutsConfig.pg_lock_wait_seconds) -> list[str]:
    """pg_dump -Fc to path; gives up after lock_wait_seconds instead of queueing behind a table lock;
    --verbose names each table as it is dumped (the dump's live progress)."""
    argv = ["pg_dump", "--format=custom", f"--lock-wait-timeout={lock_wait_seconds}s", "--verbose", "--file", path]
    return argv + (["--snapshot", snapshot] if snapshot else [])


def dump_version() -> list[str]:
    return ["pg_dump", "--version"]


def restore(path: str, database: str, user: str, jobs: int) -> list[str]:
    """pg_restore into an empty database over TCP, owners and grants dropped (the target's roles differ);
    --verbose names each table as its data is restored (the restore's live progress)."""
    return ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--verbose", f"--jobs={jobs}",
            "--host", "127.0.0.1", "--username", user, "--dbname", database, path]


def restore_list(path: str) -> list[str]:
    return ["pg_restore", "--list", path]


def restore_version() -> list[str]:
    return ["pg_restore", "--version"]


def tool_major(version_output: str) -> int:
    """The major of a client tool's `--version` line ("pg_restore (PostgreSQL) 17.5 (Debian 17.5-1)": 17);
    0 when the line names none."""
    match = re.search(r"\(PostgreSQL\) (\d+)", version_output)
    return int(match.group(1)) if match else 0


def restore_over_url(path: str, database: str, jobs: int) -> list[str]:
    """pg_restore into an empty database of the server libpq's variables name (a database outside the
    stack), owners and grants dropped, each table named as it is restored."""
    return ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--verbose", f"--jobs={jobs}",
            "--dbname", database, path]


def create_database_sql(name: str) -> str:
    """CREATE DATABASE for a name the suite made (letters, digits, '_'): quoted, never interpolated raw."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise ValueError(f"not a database name the suite makes: {name!r}")
    return f'CREATE DATABASE "{name}"'


def database_exists_sql(name: str) -> str:
    """How many databases are named name (0 or 1): the name as a quoted literal, never raw SQL."""
    return "SELECT count(*) FROM pg_database WHERE datname = '" + name.replace("'", "''") + "'"
