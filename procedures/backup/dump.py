"""Dump the database through its engine under a partial name, verify it, then give it its final name."""

import time
from dataclasses import dataclass

from ..box import BackupBox
from ..commands import files as files_cmd
from ..engines.facts import DumpFacts
from ..errors import BackupError
from ..sets import files


@dataclass(frozen=True)
class DumpResult:
    path: str
    size: int
    sha256: str
    seconds: float
    facts: DumpFacts
    toc_entries: int


def remove_leftover_partials(box: BackupBox, directory: str, listing: list[files.LocalFile]) -> list[str]:
    """Delete .partial files of interrupted runs (the lock guarantees none is being written)."""
    leftovers = [f.name for f in listing if f.name.endswith(files.PARTIAL)]
    if leftovers:
        box.run(files_cmd.remove([f"{directory}/{name}" for name in leftovers]), limit="command")
    return leftovers


def dump_database(engine, box: BackupBox, directory: str, set_name: str) -> DumpResult:
    """Write <set>.dump.partial, verify it, checksum it, then rename it to <set>.dump."""
    final = f"{directory}/{files.file_name(set_name, 'dump')}"
    partial = final + files.PARTIAL
    started = time.monotonic()
    facts = engine.dump(box, partial)
    size = files.size(box, partial)
    if size <= 0:
        raise BackupError(f"the dump tool wrote an empty file {partial}")
    toc_entries = engine.verify_dump(box, partial)
    checksum = files.sha256(box, partial)
    box.run(files_cmd.rename(partial, final), limit="command")
    return DumpResult(final, size, checksum, time.monotonic() - started, facts, toc_entries)
