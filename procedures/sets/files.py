"""The local backups directory as the backup container sees it: listing, sizes, free space."""

from dataclasses import dataclass

from ..box import BackupBox
from ..commands import files as cmd
from .names import SUFFIXES

PARTIAL = ".partial"
KINDS = {kind: suffix for suffix, kind in SUFFIXES.items()}


@dataclass(frozen=True)
class LocalFile:
    name: str
    size: int
    mtime: float


def file_name(set_name: str, kind: str) -> str:
    return set_name + KINDS[kind]


def list_files(box: BackupBox, directory: str) -> list[LocalFile]:
    rows = box.run(cmd.listing(directory), limit="command").stdout.splitlines()
    files = []
    for row in rows:
        name, size, mtime = row.split("\t")
        files.append(LocalFile(name, int(size), float(mtime)))
    return sorted(files, key=lambda f: f.name)


def free_bytes(box: BackupBox, directory: str) -> int:
    return int(box.run(cmd.free_bytes(directory), limit="command").stdout.split()[-1])


def sha256(box: BackupBox, path: str) -> str:
    return box.run(cmd.sha256(path), limit="check").stdout.split()[0]


def size(box: BackupBox, path: str) -> int:
    return int(box.run(cmd.size(path), limit="command").stdout.strip())


def sizes(box: BackupBox, paths: list[str]) -> dict[str, int]:
    """Each path's size, asked in one stat."""
    if not paths:
        return {}
    found = box.run(cmd.sizes(paths), limit="command").stdout.split()
    if len(found) != len(paths):
        raise ValueError(f"stat gave {len(found)} sizes for {len(paths)} files: {paths}")
    return dict(zip(paths, map(int, found)))
