"""What engines report, whatever the engine: the same shapes for every pipeline."""

from dataclasses import dataclass, field
from typing import Protocol


class Queryable(Protocol):
    """A database that answers SQL with tab-separated rows (the live one or a throwaway server)."""

    def query(self, sql: str) -> str: ...


@dataclass(frozen=True)
class ServerFacts:
    """The server as a backup's preflight finds it."""

    server_version_num: int
    client_major: int


@dataclass(frozen=True)
class DumpFacts:
    """What a dump holds, read inside the very snapshot the dump was taken from."""

    server_version_num: int
    schema_revision: str
    row_counts: dict[str, int] = field(default_factory=dict)
    tables_dumped: int | None = None  # tables the dump tool reported writing; None when it reports none
