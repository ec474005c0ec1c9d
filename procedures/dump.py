"""Dump the database with pg_dump -Fc under a partial name, verify it, then give it its final name.

Row counts, server version and alembic revision are read inside the very snapshot pg_dump uses,
so the manifest describes exactly what the dump holds, even while the app keeps writing.
"""

import time
from dataclasses import dataclass, field

from . import backup_files
from .backup_box import BackupBox
from .commands import files as files_cmd
from .commands import postgres as pg
from .errors import CommandFailed, OpsError

_END = "__END_OF_COUNTS__"


class BackupError(OpsError):
    """A backup step failed; earlier backups are untouched and nothing was pruned."""


@dataclass(frozen=True)
class SnapshotFacts:
    server_version_num: int
    alembic_revision: str
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def server_major(self) -> int:
        return self.server_version_num // 10000


@dataclass(frozen=True)
class DumpResult:
    path: str
    size: int
    sha256: str
    seconds: float
    facts: SnapshotFacts
    toc_entries: int


def remove_leftover_partials(box: BackupBox, directory: str) -> list[str]:
    """Delete .partial files of interrupted runs (the lock guarantees none is being written)."""
    leftovers = [f.name for f in backup_files.list_files(box, directory) if f.name.endswith(backup_files.PARTIAL)]
    if leftovers:
        box.run(files_cmd.remove([f"{directory}/{name}" for name in leftovers]))
    return leftovers


def _read_in_snapshot(talk) -> SnapshotFacts:
    # Over stdin psql runs a statement only at its ';' (unlike --command).
    talk.send(pg.SERVER_VERSION_SQL + ";")
    version = int(talk.read_line())
    talk.send(pg.ALEMBIC_REVISION_SQL + ";")
    revision = talk.read_line()
    talk.send(pg.ROW_COUNTS_SQL + ";")
    talk.send(f"\\echo {_END}")
    counts = {}
    for line in talk.read_until(_END):
        table, count = line.split("\t")
        counts[table] = int(count)
    return SnapshotFacts(version, revision, counts)


def verify_dump(box: BackupBox, path: str) -> int:
    """pg_restore must read the archive's table of contents; returns its entry count."""
    try:
        toc = box.run(pg.restore_list(path)).stdout
    except CommandFailed as e:
        raise BackupError(f"dump {path} is not a readable pg_dump archive: {e.stderr_tail}") from e
    entries = [line for line in toc.splitlines() if line and not line.startswith(";")]
    if not entries:
        raise BackupError(f"dump {path} has an empty table of contents")
    return len(entries)


def dump_database(box: BackupBox, directory: str, set_name: str) -> DumpResult:
    """Write <set>.dump.partial, verify it, checksum it, then rename it to <set>.dump."""
    final = f"{directory}/{backup_files.file_name(set_name, 'dump')}"
    partial = final + backup_files.PARTIAL
    started = time.monotonic()
    try:
        with box.session(pg.psql_session()) as talk:
            talk.send(pg.BEGIN_SNAPSHOT_SQL)
            talk.read_line()
            talk.send(pg.EXPORT_SNAPSHOT_SQL)
            snapshot = talk.read_line()
            box.run(pg.dump(partial, snapshot))
            facts = _read_in_snapshot(talk)
            talk.send("COMMIT;")
    except CommandFailed as e:
        raise BackupError(f"pg_dump failed; no backup was written under a final name: {e}") from e
    size = backup_files.size(box, partial)
    if size <= 0:
        raise BackupError(f"pg_dump wrote an empty file {partial}")
    toc_entries = verify_dump(box, partial)
    checksum = backup_files.sha256(box, partial)
    box.run(files_cmd.rename(partial, final))
    return DumpResult(final, size, checksum, time.monotonic() - started, facts, toc_entries)
