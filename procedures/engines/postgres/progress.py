"""pg_dump and pg_restore --verbose lines turned into live progress: 'table i of N: schema.name', and
for a dump the bytes written so far when this host can stat the dump file ('(1.204 MiB written)')."""

import re
from typing import Callable

from ... import progress

# Postgres 15: 'pg_dump: dumping contents of table "public.notes"' as a table's data is written,
# 'pg_restore: processing data for table "public.notes"' as it is read back (by any of --jobs).
# Parallel workers share one stderr and write each log line in three writes ('pg_restore:', ' ', then the
# message with its newline), so under load the pieces of two lines mix: 'pg_restore:pg_restore: processing
# ...' and then ' processing ...' (recorded: tests/fixtures/progress/pg_restore_jobs2_interleaved.txt). Only
# the message is one write: it is found wherever it starts, whatever precedes it.
_TABLE = re.compile(r'(?:dumping contents of|processing data for) table "(?P<table>.+)"$')


def table_of(line: str) -> str | None:
    """The table a --verbose line says is being dumped or restored (schema.name); None for other lines."""
    found = _TABLE.search(line)
    return found["table"] if found else None


class TableCount:
    """Counts the tables a --verbose pg_dump or pg_restore reaches, showing each as it starts."""

    def __init__(self, step: str, total: int, written: Callable[[], int | None] | None = None):
        self.step = step
        self.total = total  # 0 when unknown: 'table i: schema.name'
        self.done = 0
        self.written = written  # the output's size so far, read at each table (None: not known here)

    def __call__(self, line: str) -> None:
        table = table_of(line)
        if table is not None:
            self.done += 1
            of = f" of {self.total}" if self.total else ""
            size = self.written() if self.written else None
            so_far = f" ({progress.human(size)} written)" if size is not None else ""
            progress.show(f"{self.step}: table {self.done}{of}: {table}{so_far}")
