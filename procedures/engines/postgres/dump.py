"""pg_dump -Fc in the backup container, with the manifest's facts read inside the dump's own snapshot.

Row counts, server version and schema revision come from the snapshot pg_dump uses, so the
manifest describes exactly what the dump holds, even while the app keeps writing.
"""

import re
from dataclasses import replace

from ... import progress
from ...commands import postgres as pg
from ...errors import BackupError, CommandFailed
from ..facts import DumpFacts, ServerFacts
from .progress import TableCount

_END = "__END_OF_COUNTS__"


def check_dump_client(box) -> ServerFacts:
    """Database reachable and pg_dump not older than the server; refuse otherwise."""
    try:
        box.run(pg.isready(), limit="command")
        server = int(box.run(pg.psql(pg.SERVER_VERSION_SQL), limit="command").stdout.strip())
    except CommandFailed as e:
        raise BackupError(f"database not reachable, nothing was written: {e.stderr_tail or e}") from e
    match = re.search(r"(\d+)(?:\.\d+)?", box.run(pg.dump_version(), limit="command").stdout)
    client = int(match.group(1)) if match else 0
    if client < server // 10000:
        raise BackupError(
            f"pg_dump {client} is older than the server ({server // 10000}): rebuild the backup image "
            f"from postgres:{server // 10000} (BACKUP_IMAGE)"
        )
    return ServerFacts(server, client)


def _read_in_snapshot(talk, revision_query: str) -> DumpFacts:
    # Over stdin psql runs a statement only at its ';' (unlike --command).
    talk.send(pg.SERVER_VERSION_SQL + ";")
    version = int(talk.read_line())
    revision = ""
    if revision_query:
        talk.send(pg.revision_sql(revision_query) + ";")
        try:
            revision = talk.read_line()
        except CommandFailed as e:
            raise BackupError(f"[database] revision_query failed ({e.stderr_tail or e}); it must be a SELECT "
                              "returning one value (or \"\" when the app records no schema revision). No backup "
                              "was written under a final name") from e
    talk.send(pg.ROW_COUNTS_SQL + ";")
    talk.send(f"\\echo {_END}")
    counts = {}
    for line in talk.read_until(_END):
        table, count = line.split("\t")
        counts[table] = int(count)
    return DumpFacts(version, revision, counts)


def dump(box, path: str, lock_wait_seconds: int, revision_query: str) -> DumpFacts:
    """pg_dump -Fc to path inside an exported snapshot, each table shown as it is dumped ('table i of N');
    the facts come from that same snapshot."""
    try:
        with box.session(pg.psql_session()) as talk:
            talk.send(pg.BEGIN_SNAPSHOT_SQL)
            talk.read_line()
            talk.send(pg.EXPORT_SNAPSHOT_SQL)
            snapshot = talk.read_line()
            # N of the progress from the catalog in the same snapshot: the row counts come after the
            # dump, so counting them takes no table lock a migration could queue pg_dump behind.
            talk.send(pg.BASE_TABLE_COUNT_SQL + ";")
            tables = TableCount("dump", int(talk.read_line()), written=progress.file_size(box.host_path(path)))
            box.run(pg.dump(path, snapshot, lock_wait_seconds), limit="dump", progress=tables)
            facts = _read_in_snapshot(talk, revision_query)
            talk.send("COMMIT;")
    except CommandFailed as e:
        raise BackupError(f"pg_dump failed; no backup was written under a final name: {e}") from e
    return replace(facts, tables_dumped=tables.done)


def verify_dump(box, path: str, needed_major: int = 0) -> int:
    """pg_restore must read the archive's table of contents; returns its entry count. An archive of a
    newer major (needed_major, from its manifest) than the box's pg_restore is refused as that, not
    as an unreadable archive: the set is not known to be damaged."""
    if needed_major:
        tools = pg.tool_major(box.run(pg.restore_version(), limit="command").stdout)
        if tools < needed_major:
            raise BackupError(
                f"{path} was dumped from Postgres {needed_major}, and the backup image's pg_restore is {tools}: "
                f"it cannot read a newer major's archive (the set is not known to be damaged). Read and restore "
                f"it with tools of Postgres {needed_major} or newer: BACKUP_IMAGE built from postgres:{needed_major} "
                "and the db service on that major (docs/RESTORE_RUNBOOK.md section 9)")
    try:
        toc = box.run(pg.restore_list(path), limit="check").stdout
    except CommandFailed as e:
        raise BackupError(f"dump {path} is not a readable pg_dump archive: {e.stderr_tail}") from e
    entries = [line for line in toc.splitlines() if line and not line.startswith(";")]
    if not entries:
        raise BackupError(f"dump {path} has an empty table of contents")
    return len(entries)
