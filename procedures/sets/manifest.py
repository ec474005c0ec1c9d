"""The manifest written beside each dump: what the restore drill compares a restore against."""

import json
import socket

from ..box import BackupBox
from ..commands import files as cmd
from .names import Identity

FORMAT_VERSION = 1
REQUIRED = ("format_version", "set", "environment", "engine", "database", "server_version_num",
            "alembic_revision", "row_counts", "table_count", "dump", "uploads", "tag",
            "started_at", "finished_at", "duration_seconds", "verified", "host")


def build(*, set_name: str, identity: Identity, engine: str, tag: str | None, dump, uploads,
          started_at: str, finished_at: str, duration: float, clock: str, dump_tool_major: int = 0,
          paths: dict | None = None) -> dict:
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
                 "toc_entries": dump.toc_entries, "seconds": round(dump.seconds, 3),
                 # The dump tool's major: a pg_dump newer than the server writes an archive only a
                 # pg_restore of its own major or newer reads.
                 "tool_major": dump_tool_major},
        "uploads": uploads,
        "paths": paths,  # the archive of [backup] paths (host directories), None when there are none
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


def restorable_by(manifest: dict) -> int:
    """The server_version_num a restoring server must reach: the dumped server's, raised to the dump
    tool's major when that was newer (manifests before it was recorded: the server's alone)."""
    tool = (manifest.get("dump") or {}).get("tool_major") or 0
    return max(manifest["server_version_num"], tool * 10000)


def identity(manifest: dict) -> Identity:
    """Whose set a manifest describes (project None in manifests written before it was recorded)."""
    return Identity(manifest.get("project"), manifest.get("environment", ""), manifest.get("database", ""))


def missing_fields(manifest: dict) -> list[str]:
    return [key for key in REQUIRED if key not in manifest]


def write(box: BackupBox, path: str, manifest: dict) -> int:
    """Write under a partial name, then rename: a manifest on disk always means a complete set. Returns
    its size in bytes."""
    partial = path + ".partial"
    text = json.dumps(manifest, indent=2, sort_keys=True)
    box.run(cmd.write_stdin_to(partial), input_text=text, limit="command")
    box.run(cmd.rename(partial, path), limit="command")
    return len(text.encode())


def read(box: BackupBox, path: str) -> dict:
    return json.loads(box.run(cmd.read(path), limit="command").stdout)
