"""The manifest written beside each dump: what the restore drill compares a restore against."""

import json
import socket

from ..commands import files as cmd
from .box import BackupBox
from .names import Identity

FORMAT_VERSION = 1
REQUIRED = ("format_version", "set", "environment", "engine", "database", "server_version_num",
            "alembic_revision", "row_counts", "table_count", "dump", "uploads", "tag",
            "started_at", "finished_at", "duration_seconds", "verified", "host")


def build(*, set_name: str, identity: Identity, engine: str, tag: str | None, dump, uploads,
          started_at: str, finished_at: str, duration: float, clock: str) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "set": set_name,
        "project": identity.project,
        "environment": identity.environment,
        "engine": engine,
        "database": identity.database,
        "server_version_num": dump.facts.server_version_num,
        # The key keeps its first name so earlier manifests still read; it holds the engine's schema revision.
        "alembic_revision": dump.facts.schema_revision,
        "row_counts": dump.facts.row_counts,
        "table_count": len(dump.facts.row_counts),
        "dump": {"file": dump.path.rsplit("/", 1)[-1], "size": dump.size, "sha256": dump.sha256,
                 "toc_entries": dump.toc_entries, "seconds": round(dump.seconds, 3)},
        "uploads": uploads,
        "tag": tag,
        "started_at": started_at,
        "finished_at": finished_at,
        "duration_seconds": round(duration, 3),
        "verified": True,
        # Whether this run's clock agreed with the history (backup/clock.py): a set written on a
        # clock that disagreed is never the reference for a later run's check.
        "clock": clock,
        "host": socket.gethostname(),
    }


def identity(manifest: dict) -> Identity:
    """Whose set a manifest describes (project None in manifests written before it was recorded)."""
    return Identity(manifest.get("project"), manifest.get("environment", ""), manifest.get("database", ""))


def missing_fields(manifest: dict) -> list[str]:
    return [key for key in REQUIRED if key not in manifest]


def write(box: BackupBox, path: str, manifest: dict) -> None:
    """Write under a partial name, then rename: a manifest on disk always means a complete set."""
    partial = path + ".partial"
    box.run(cmd.write_stdin_to(partial), input_text=json.dumps(manifest, indent=2, sort_keys=True), limit="command")
    box.run(cmd.rename(partial, path), limit="command")


def read(box: BackupBox, path: str) -> dict:
    return json.loads(box.run(cmd.read(path), limit="command").stdout)
