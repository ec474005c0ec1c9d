"""List an uploads tree, or the regular files of a tar.gz, as JSON: relative path, size, sha256, mode.

Runs inside the backup container as `python3 - tree DIR` or `python3 - archive FILE`, its source
on stdin (procedures/backup/uploads_list.py sends it), so it imports the standard library only.
Both forms print the same shape, so a tree extracted from an archive compares with the archive's list.
Entries that are not regular files or directories (symlinks, devices) are reported as `skipped`.
"""

import hashlib
import json
import os
import stat
import sys
import tarfile

CHUNK = 1024 * 1024


def _digest(stream) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(CHUNK), b""):
        digest.update(block)
    return digest.hexdigest()


def _entry(path: str, size: int, sha256: str, mode: int) -> dict:
    return {"path": path, "size": size, "sha256": sha256, "mode": format(stat.S_IMODE(mode), "04o")}


def _raise(error: OSError) -> None:
    raise error


def walk_tree(root: str) -> dict:
    """Every regular file under root, path relative to root; never follows symlinks; an unreadable
    directory is an error, not a silent gap."""
    files, skipped = [], []
    for directory, dirnames, filenames in os.walk(root, onerror=_raise):
        dirnames.sort()
        for name in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(directory, d)))]:
            full = os.path.join(directory, name)
            relative = os.path.relpath(full, root)
            info = os.lstat(full)
            if not stat.S_ISREG(info.st_mode):
                skipped.append(relative)
                continue
            with open(full, "rb") as stream:
                files.append(_entry(relative, info.st_size, _digest(stream), info.st_mode))
    return {"files": sorted(files, key=lambda f: f["path"]), "skipped": sorted(skipped)}


def walk_archive(path: str) -> dict:
    """Every regular file a tar.gz holds, path relative to the archive's root ('./' dropped)."""
    files, skipped = [], []
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            relative = os.path.normpath(member.name)
            if member.isdir() or relative == ".":
                continue
            if not member.isreg():
                skipped.append(relative)
                continue
            with archive.extractfile(member) as stream:
                files.append(_entry(relative, member.size, _digest(stream), member.mode))
    return {"files": sorted(files, key=lambda f: f["path"]), "skipped": sorted(skipped)}


def main(argv: list[str]) -> int:
    kind, source = argv
    walked = walk_tree(source) if kind == "tree" else walk_archive(source)
    json.dump(walked, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
