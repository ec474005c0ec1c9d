"""mariadb-dump in the backup container, the manifest's facts counted in the dump stream itself.

Runs inside the backup container as `python3 - VERB ARGS`, its source on stdin (as sqlite_copy does),
so it imports the standard library only. The server and the account come from the environment the
backup container was started with (HOST_VARIABLE, USER_VARIABLE, DATABASE_VARIABLE; the password in
MYSQL_PWD, which the MariaDB/MySQL clients read themselves: never on a command line).

server: the server's version (SELECT VERSION(), so an unreachable server or a refused login is an
error) and the dump tool's, as JSON.
query SQL: one statement's rows, tab-separated.
dump OUT GUARD REVISION: mariadb-dump --single-transaction of the database, gzip-compressed to OUT.
MariaDB cannot hand its snapshot to a second session, so the row counts are read from the stream
itself while it is written: every tuple of each table's `INSERT INTO ... VALUES (...),(...);` line,
counted by a tokenizer that skips quoted strings (with their backslash escapes). The schema revision
(REVISION, after GUARD says its table exists) is read just before and just after the dump: a
difference means a migration ran during it, and the dump is refused. OUT is removed on any failure.
verify FILE: the file decompresses whole and ends with mariadb-dump's `-- Dump completed` line;
answers how many tables it creates.
"""

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import zlib

HOST_VARIABLE = "OPSUITE_MARIADB_HOST"
USER_VARIABLE = "OPSUITE_MARIADB_USER"
DATABASE_VARIABLE = "OPSUITE_MARIADB_DATABASE"
COMPLETED = "-- Dump completed"  # mariadb-dump's (and mysqldump's) last line of a whole dump
_NAME = r"`((?:[^`]|``)*)`"
_CREATE_TABLE = re.compile(r"^CREATE TABLE " + _NAME)
_INSERT = re.compile(r"^INSERT INTO " + _NAME + r"(?: \([^)]*\))? VALUES(?=[\s(])")
# A quoted string (its backslash escapes included), a parenthesis or a semicolon: all that tuple counting
# looks at. mariadb-dump escapes newlines inside strings (\n), so no string spans two lines.
_TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'|[();]")
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


class DumpFailed(Exception):
    """What the caller prints: the reason (the tool's own error line when it has one)."""


def version_num(text: str) -> int:
    """10.11.18-MariaDB-0+deb12u1 -> 101118 (MariaDB's own MYSQL_VERSION_ID numbering); 0 when none."""
    match = _VERSION.search(text)
    return int(match.group(1)) * 10000 + int(match.group(2)) * 100 + int(match.group(3)) if match else 0


def tool_version_num(text: str) -> int:
    """The server release a dump tool belongs to, from its --version line: `Distrib 10.11.18-MariaDB`
    (10.x), `from 11.4.2-MariaDB` (11.x) or `Ver 8.0.36` (MySQL)."""
    for pattern in (r"Distrib (\d+\.\d+\.\d+)", r"from (\d+\.\d+\.\d+)", r"Ver (\d+\.\d+\.\d+)"):
        match = re.search(pattern, text)
        if match:
            return version_num(match.group(1))
    return 0


def scan_values(values: str, depth: int = 0) -> tuple[int, int, bool]:
    """Tuples begun in one line of an extended INSERT's VALUES (parentheses opened at depth 0, outside
    quoted strings), the depth it leaves open, and whether the statement ended (its ';' at depth 0)."""
    rows = 0
    for token in _TOKEN.finditer(values):
        text = token.group()
        if text == "(":
            rows += depth == 0
            depth += 1
        elif text == ")":
            depth -= 1
        elif text == ";" and depth == 0:
            return rows, depth, True
    return rows, depth, False


def count_tuples(values: str) -> int:
    """How many rows a whole extended INSERT's VALUES part holds."""
    return scan_values(values)[0]


def _unquote(name: str) -> str:
    return name.replace("``", "`")


class StreamCounts:
    """Row counts of every table a dump creates, fed the dump's lines as they pass. An extended INSERT is
    one line (`VALUES (...),(...);`) or, from mariadb-dump 10.11's later releases, one tuple per line."""

    def __init__(self):
        self.rows: dict[str, int] = {}
        self.completed = False
        self._inserting: str | None = None  # the table whose INSERT statement is still open
        self._depth = 0

    def feed(self, line: str) -> None:
        if self._inserting is None:
            match = _INSERT.match(line) if line.startswith("INSERT INTO ") else None
            if match is None:
                self._note(line)
                return
            self._inserting, self._depth, line = _unquote(match.group(1)), 0, line[match.end():]
            self.rows.setdefault(self._inserting, 0)
        rows, self._depth, ended = scan_values(line, self._depth)
        self.rows[self._inserting] += rows
        if ended:
            self._inserting = None

    def _note(self, line: str) -> None:
        if line.startswith("CREATE TABLE "):
            match = _CREATE_TABLE.match(line)
            if match:
                self.rows.setdefault(_unquote(match.group(1)), 0)
        elif line.startswith(COMPLETED):
            self.completed = True


class Client:
    """The account the backup container was given, and the argv of the tools that use it."""

    def __init__(self, environ):
        try:
            self.host, self.user, self.database = (environ[n] for n in (HOST_VARIABLE, USER_VARIABLE, DATABASE_VARIABLE))
        except KeyError as e:
            raise DumpFailed(f"{e.args[0]} is not set: start the backup container with the engine's client environment") from e

    def query_argv(self, sql: str) -> list[str]:
        return ["mariadb", "--host", self.host, "--user", self.user, "--database", self.database,
                "--batch", "--skip-column-names", "--execute", sql]

    def dump_argv(self) -> list[str]:
        # No --databases: the dump then holds no CREATE DATABASE/USE, so it restores into any database name.
        return ["mariadb-dump", "--host", self.host, "--user", self.user, "--single-transaction", "--routines",
                "--triggers", "--events", "--hex-blob", "--no-tablespaces", self.database]


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"


def query(client: Client, sql: str) -> str:
    done = subprocess.run(client.query_argv(sql), capture_output=True, text=True)
    if done.returncode != 0:
        raise DumpFailed(f"{sql[:80]!r} failed: {_error_line(done.stderr)}")
    return done.stdout


def revision(client: Client, guard: str, revision_query: str) -> str:
    """The schema revision: '' when GUARD finds no revision table, or no query is configured."""
    if not revision_query or (guard and query(client, guard).strip() in ("", "0")):
        return ""
    return query(client, revision_query).strip()


def server(client: Client) -> dict:
    found = query(client, "SELECT VERSION()").strip()
    tool = subprocess.run(["mariadb-dump", "--version"], capture_output=True, text=True).stdout
    return {"server_version": found, "server_version_num": version_num(found), "tool_version": tool.strip(),
            "tool_version_num": tool_version_num(tool)}


def dump(client: Client, out: str, guard: str, revision_query: str) -> dict:
    """The dump, gzip-compressed to out, and its facts; out is removed on any failure."""
    try:
        before = revision(client, guard, revision_query)
        found = server(client)
        counts = StreamCounts()
        with tempfile.TemporaryFile() as errors, gzip.open(out, "wb") as compressed:
            proc = subprocess.Popen(client.dump_argv(), stdout=subprocess.PIPE, stderr=errors)
            for line in proc.stdout:
                compressed.write(line)
                counts.feed(line.decode("utf-8", errors="replace"))
            returncode = proc.wait()
            errors.seek(0)
            stderr = errors.read().decode(errors="replace")
        if returncode != 0:
            raise DumpFailed(f"mariadb-dump failed (exit {returncode}): {_error_line(stderr)}")
        if not counts.completed:
            raise DumpFailed(f"mariadb-dump's output ended before its {COMPLETED!r} line")
        after = revision(client, guard, revision_query)
        if after != before:
            raise DumpFailed(f"the schema revision changed during the dump ({before!r} -> {after!r}): a migration "
                             "ran meanwhile; take the backup again")
    except BaseException:
        if os.path.exists(out):
            os.unlink(out)
        raise
    return {"server_version_num": found["server_version_num"], "revision": before, "row_counts": counts.rows}


def verify(path: str) -> dict:
    tables, last = 0, ""
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as dumped:
            for line in dumped:
                tables += line.startswith("CREATE TABLE ")
                if line.strip():
                    last = line
    except (OSError, EOFError, zlib.error) as e:
        raise DumpFailed(f"{path} does not decompress whole: {e}") from e
    if not last.startswith(COMPLETED):
        raise DumpFailed(f"{path} does not end with mariadb-dump's {COMPLETED!r} line (it ends {last.strip()[:80]!r})")
    return {"tables": tables}


def main(argv: list[str]) -> int:
    verb, *args = argv
    try:
        if verb == "verify":
            found = verify(*args)
        else:
            client = Client(os.environ)
            if verb == "server":
                found = server(client)
            elif verb == "query":
                sys.stdout.write(query(client, *args))
                return 0
            elif verb == "dump":
                found = dump(client, *args)
            else:
                raise DumpFailed(f"unknown action {verb!r}: server, query, dump or verify")
    except DumpFailed as e:
        print(f"{e}{'; nothing was written under the output name' if verb == 'dump' else ''}", file=sys.stderr)
        return 1
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
