"""The uploads file list: every file the uploads hold (path, size, sha256, mode, owner) and every
directory (mode, owner), written beside the set as `<set>.uploads.list.json` and compared with what a
restore gives back. Lists written before owners were recorded have neither uid/gid nor directories."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..box import BackupBox
from ..commands import files as cmd
from ..errors import BackupError
from . import files

WALK_SOURCE = (Path(__file__).parent / "uploads_walk.py").read_text()
COMPARED = ("size", "sha256", "mode")
OWNER = ("uid", "gid")  # compared when both sides record them
FIELDS = {"path", "size", "sha256", "mode"}


@dataclass(frozen=True)
class Difference:
    """How a restored tree differs from the recorded list; empty lists mean they are the same."""

    missing: list[str]  # recorded, not restored
    extra: list[str]  # restored, not recorded
    differing: list[dict]  # in both: path and what differs (recorded vs restored)

    @property
    def same(self) -> bool:
        return not (self.missing or self.extra or self.differing)

    def describe(self, limit: int = 20) -> str:
        parts = []
        for label, items in (("missing", self.missing), ("extra", self.extra),
                             ("differing", [d["path"] for d in self.differing])):
            if items:
                shown = ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")
                parts.append(f"{len(items)} {label}: {shown}")
        return "; ".join(parts) or "identical"


def parse(stdout: str) -> dict:
    """The lister's JSON ({"files": [...], "skipped": [...], "directories": [...]}), with every
    entry's fields checked."""
    walked = json.loads(stdout)
    for entry in walked["files"]:
        if set(entry) not in (FIELDS, FIELDS | set(OWNER)):
            raise BackupError(f"uploads lister gave an entry with fields {sorted(entry)}: {entry}")
    return walked


def walk(box: BackupBox, kind: str, source: str) -> dict:
    """List a tree ("tree") or a tar.gz ("archive") inside the backup container."""
    return parse(box.run(cmd.walk_uploads(kind, source), input_text=WALK_SOURCE, limit="check").stdout)


def compare(recorded: list[dict], restored: list[dict]) -> Difference:
    """Missing, extra and differing files (size, sha256, mode; owner when both record it) between two
    lists, by path."""
    want = {e["path"]: e for e in recorded}
    got = {e["path"]: e for e in restored}
    differing = []
    for path in sorted(set(want) & set(got)):
        changed = {k: {"recorded": want[path][k], "restored": got[path][k]}
                   for k in (*COMPARED, *OWNER) if k in want[path] and k in got[path] and want[path][k] != got[path][k]}
        if changed:
            differing.append({"path": path, **changed})
    return Difference(sorted(set(want) - set(got)), sorted(set(got) - set(want)), differing)


def summary(walked: dict) -> dict:
    return {"files": len(walked["files"]), "bytes": sum(e["size"] for e in walked["files"]),
            "skipped": walked["skipped"]}


def write(box: BackupBox, path: str, walked: dict) -> dict:
    """Write the list under a partial name, checksum it, rename it; returns its manifest entry."""
    partial = path + files.PARTIAL
    text = json.dumps(walked, indent=1, sort_keys=True).encode()
    box.run(cmd.write_stdin_to(partial), input_text=text.decode(), limit="command")
    # The checksum read back from disk must be that of the bytes sent: then the size is theirs too.
    written = files.sha256(box, partial)
    if written != hashlib.sha256(text).hexdigest():
        raise BackupError(f"{partial}: the file on disk differs from the list written (checksum {written}): "
                          "the disk is failing or full?")
    entry = {"file": path.rsplit("/", 1)[-1], "size": len(text), "sha256": written, **summary(walked)}
    box.run(cmd.rename(partial, path), limit="command")
    return entry


def read(box: BackupBox, path: str, expected_sha256: str) -> dict:
    """A recorded list, refused when its checksum differs from the manifest's."""
    # One read: the bytes parsed are the bytes hashed (the text read back is hashed as UTF-8; a list is
    # JSON written as ASCII, and a byte that does not decode makes the checksum differ).
    text = box.run(cmd.read(path), limit="command").stdout
    actual = hashlib.sha256(text.encode()).hexdigest()
    if actual != expected_sha256:
        raise BackupError(f"{path}: checksum {actual} differs from the manifest's {expected_sha256}: "
                          "the uploads file list is corrupted")
    return parse(text)
