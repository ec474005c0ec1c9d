"""SQLite's online backup and the check of a copy, as one standard-library script.

Runs inside a container that mounts the database's volume, as `python3 - backup DB OUT SECONDS [QUERY]`
or `python3 - check COPY [QUERY]`, its source on stdin (as the uploads lister runs), so it imports the
standard library only; it prints the copy's facts as JSON.

backup: copies the live database with SQLite's backup API in one step (never a file copy: in WAL
mode committed pages may still sit in the -wal file, and a copy of the files mid-write is torn), so
the copy is the database at one point in time while the app keeps writing. The database is opened
read-only (a missing file is an error, never a new empty database), waiting at most SECONDS for a
lock. The copy must pass `PRAGMA integrity_check`; its row counts and schema revision (QUERY, a
SELECT of one value; none when empty) are read from the copy itself; it is written gzip-compressed
to OUT. Temporary files are removed on every exit; OUT is written whole or not at all, and the
caller gives it its final name.

check: decompresses a copy to a temporary file and answers the same facts (verify and the drill).
restore: decompresses a copy, checks it, and moves it whole to OUT (the drill's and a disaster's copy),
into a place where no database or -wal/-shm file is (a -wal of another database would be replayed into
it); given OWNER (the `owner` answer of the live file), the file and its directory get the live
ones' owner and mode, so the app (a non-root user) can write there and create its -wal.
owner: who owns the database file and its directory (the nearest that exists), and their modes.
counts, identity, query: questions to a database, read-only: its row counts and revision (no
integrity check: the live database is asked this on every deploy), what tells this file from a new
one (its inode), or one SELECT's rows, tab-separated.

The container runs as root; SQLite creates the -wal and -shm files of a WAL database when no
connection has them open. Any this script created are given to the database file's owner before it
exits, so the app (a non-root user) can still open its own database.
"""

import contextlib
import errno
import gzip
import json
import os
import shutil
import sqlite3
import sys
import tempfile

CHUNK = 1024 * 1024


class CopyFailed(Exception):
    """What the caller prints: the reason, and that nothing was written under the output name."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def facts(connection: sqlite3.Connection, revision_query: str) -> dict:
    """Integrity, row count of every table, schema revision and SQLite's version, from one connection."""
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise CopyFailed(f"PRAGMA integrity_check: {'; '.join(problems[:5])}")
    return {**_facts_without_integrity(connection, revision_query), "integrity": "ok"}


def _facts_without_integrity(connection: sqlite3.Connection, revision_query: str) -> dict:
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    row_counts = {table: connection.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0] for table in tables}
    revision = ""
    if revision_query:
        rows = connection.execute(revision_query.strip().rstrip(";")).fetchall()
        if len(rows) > 1 or (rows and len(rows[0]) != 1):
            raise CopyFailed("the revision query must return one value; it returned "
                             f"{len(rows)} row(s) of {len(rows[0]) if rows else 0} column(s)")
        revision = "" if not rows or rows[0][0] is None else str(rows[0][0])
    major, minor, patch = sqlite3.sqlite_version_info
    return {"server_version_num": major * 1000000 + minor * 1000 + patch, "revision": revision,
            "row_counts": row_counts}


@contextlib.contextmanager
def _scratch(near: str):
    """A temporary directory beside near (same filesystem), removed on every exit."""
    directory = tempfile.mkdtemp(prefix=".sqlite-copy-", dir=os.path.dirname(os.path.abspath(near)) or ".")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


SIDECARS = ("-wal", "-shm", "-journal")


@contextlib.contextmanager
def _owner_keeps_sidecars(database: str):
    """Give the -wal/-shm/-journal files created meanwhile to the database file's owner."""
    if not os.path.isfile(database):
        raise CopyFailed(f"{database} does not exist (is the data volume mounted, and the database path right?)")
    before = {suffix for suffix in SIDECARS if os.path.exists(database + suffix)}
    owner = os.stat(database)
    try:
        yield
    finally:
        for suffix in SIDECARS:
            path = database + suffix
            if suffix not in before and os.path.exists(path):
                with contextlib.suppress(OSError):
                    os.chown(path, owner.st_uid, owner.st_gid)


def _open_read_only(database: str, lock_seconds: float) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=lock_seconds)
    except sqlite3.Error as e:
        raise CopyFailed(f"cannot open {database}: {e}") from e


def counts(database: str, lock_seconds: float, revision_query: str = "") -> dict:
    with _owner_keeps_sidecars(database):
        connection = _open_read_only(database, lock_seconds)
        try:
            connection.execute("BEGIN")  # one point in time for every count
            return _facts_without_integrity(connection, revision_query)
        except sqlite3.Error as e:
            raise CopyFailed(f"reading {database} failed: {e}") from e
        finally:
            connection.close()


def identity(database: str) -> dict:
    if not os.path.isfile(database):
        raise CopyFailed(f"{database} does not exist (is the data volume mounted, and the database path right?)")
    return {"identity": str(os.stat(database).st_ino), "sqlite_version": sqlite3.sqlite_version}


def query(database: str, lock_seconds: float, sql: str) -> str:
    with _owner_keeps_sidecars(database):
        connection = _open_read_only(database, lock_seconds)
        try:
            rows = connection.execute(sql).fetchall()
        except sqlite3.Error as e:
            raise CopyFailed(f"{sql!r} failed on {database}: {e}") from e
        finally:
            connection.close()
    return "".join("\t".join("" if v is None else str(v) for v in row) + "\n" for row in rows)


def owner(database: str) -> dict:
    """The owner and mode of the database file (None when it is gone) and of its nearest existing directory."""
    directory = os.path.dirname(os.path.abspath(database))
    while not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    found = os.stat(directory)
    answer = {"directory": [found.st_uid, found.st_gid, found.st_mode & 0o7777], "file": None}
    if os.path.isfile(database):
        found = os.stat(database)
        answer["file"] = [found.st_uid, found.st_gid, found.st_mode & 0o7777]
    return answer


def _take_owner(plain: str, output: str, owned: dict) -> None:
    """Give the restored file (before it takes its name) and its directory the live ones' owner and mode."""
    uid, gid, mode = owned["directory"]
    os.chown(os.path.dirname(output), uid, gid)
    os.chmod(os.path.dirname(output), mode)
    uid, gid, mode = owned["file"] or [uid, gid, 0o644]
    os.chown(plain, uid, gid)
    os.chmod(plain, mode)


def restore(copy: str, output: str, revision_query: str = "", owned: str = "") -> dict:
    mixed = [output + suffix for suffix in ("", *SIDECARS) if os.path.exists(output + suffix)]
    if mixed:
        raise CopyFailed(f"{', '.join(mixed)} exist(s) where the copy goes: a restore is made into an empty place, "
                         "never beside another database's files")
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with _scratch(output) as scratch:
        plain = os.path.join(scratch, "restored.db")
        _decompress(copy, plain)
        connection = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
        try:
            found = facts(connection, revision_query)
        except sqlite3.DatabaseError as e:
            raise CopyFailed(f"{copy} is not a readable SQLite database: {e}") from e
        finally:
            connection.close()
        if owned:
            _take_owner(plain, output, json.loads(owned))
        os.replace(plain, output)
    return found


NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _decompress(copy: str, plain: str) -> None:
    try:
        with gzip.open(copy, "rb") as read_from, open(plain, "wb") as write_to:
            shutil.copyfileobj(read_from, write_to, CHUNK)
    except OSError as e:
        if e.errno in NO_SPACE:
            raise CopyFailed(f"no space left writing the decompressed copy of {copy}: {e}") from e
        raise CopyFailed(f"{copy} is not a readable gzip-compressed copy: {e}") from e
    except EOFError as e:
        raise CopyFailed(f"{copy} is not a readable gzip-compressed copy: {e}") from e


def backup(database: str, output: str, lock_seconds: float, revision_query: str = "") -> dict:
    with _owner_keeps_sidecars(database), _scratch(output) as scratch:
        copy_path = os.path.join(scratch, "copy.db")
        source = _open_read_only(database, lock_seconds)
        copy = sqlite3.connect(copy_path)
        try:
            # The read transaction is taken first, under the busy timeout: Connection.backup itself
            # retries a locked database forever. The copy then reads inside it: one point in time.
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            source.backup(copy, pages=-1)
            found = facts(copy, revision_query)
        except sqlite3.Error as e:
            raise CopyFailed(f"online backup of {database} failed: {e}") from e
        finally:
            copy.close()
            source.close()
        packed = os.path.join(scratch, "copy.db.gz")
        try:
            with open(copy_path, "rb") as read_from, gzip.open(packed, "wb") as write_to:
                shutil.copyfileobj(read_from, write_to, CHUNK)
        except OSError as e:
            raise CopyFailed(f"writing the compressed copy failed: {e}") from e
        os.replace(packed, output)  # the whole compressed copy, or nothing, under output
    return found


def check(copy: str, revision_query: str = "") -> dict:
    with _scratch(copy) as scratch:
        plain = os.path.join(scratch, "check.db")
        _decompress(copy, plain)
        connection = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
        try:
            return facts(connection, revision_query)
        except sqlite3.DatabaseError as e:
            raise CopyFailed(f"{copy} is not a readable SQLite database: {e}") from e
        finally:
            connection.close()


def main(argv: list[str]) -> int:
    kind, *args = argv
    try:
        if kind == "backup":
            database, output, seconds, *revision_query = args
            found = backup(database, output, float(seconds), *revision_query)
        elif kind == "check":
            found = check(*args)
        elif kind == "restore":
            found = restore(*args)
        elif kind == "counts":
            database, seconds, *revision_query = args
            found = counts(database, float(seconds), *revision_query)
        elif kind == "identity":
            found = identity(*args)
        elif kind == "owner":
            found = owner(*args)
        elif kind == "query":
            database, seconds, sql = args
            sys.stdout.write(query(database, float(seconds), sql))
            return 0
        else:
            raise CopyFailed(f"unknown action {kind!r}: backup, check, restore, counts, identity, owner or query")
    except CopyFailed as e:
        writes = kind in ("backup", "restore")
        print(f"{e}{'; nothing was written under the output name' if writes else ''}", file=sys.stderr)
        return 1
    json.dump(found, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
