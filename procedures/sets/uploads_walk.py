"""List an uploads tree, or the regular files of a tar.gz, as JSON: relative path, size, sha256, mode
and owner (uid, gid), and each directory's mode and owner;
store a tree's files in the content-addressed store, or rebuild a tree from a list and the store.

Runs inside the backup container as `python3 - tree DIR`, `python3 - archive FILE`,
`python3 - store DIR STORE` or `python3 - rebuild LIST STORE DIR`, its source on stdin
(procedures/sets/uploads_list.py sends it), so it imports the standard library only.
tree, archive and store print the same shape, so a tree extracted from an archive or rebuilt from
the store compares with the recorded list. Entries that are not regular files or directories
(symlinks, devices) are reported as `skipped`.

The store holds each distinct file once, at STORE/<sha256[:2]>/<sha256>, written as `.partial`
while it is hashed and renamed only when absent: an object's name is its content's hash.
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


def _entry(path: str, size: int, sha256: str, mode: int, uid: int, gid: int) -> dict:
    return {"path": path, "size": size, "sha256": sha256, "mode": format(stat.S_IMODE(mode), "04o"),
            "uid": uid, "gid": gid}


def _directory(path: str, mode: int, uid: int, gid: int) -> dict:
    return {"path": path, "mode": format(stat.S_IMODE(mode), "04o"), "uid": uid, "gid": gid}


def _raise(error: OSError) -> None:
    raise error


def walk_tree(root: str) -> dict:
    """Every regular file under root, path relative to root; never follows symlinks; an unreadable
    directory is an error, not a silent gap. Directories (root as ".") are listed with their owner and
    mode, so a tree rebuilt for the app to use belongs to the same user."""
    files, skipped, directories = [], [], []
    for directory, dirnames, filenames in os.walk(root, onerror=_raise):
        dirnames.sort()
        info = os.lstat(directory)
        directories.append(_directory(os.path.relpath(directory, root), info.st_mode, info.st_uid, info.st_gid))
        for name in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(directory, d)))]:
            full = os.path.join(directory, name)
            relative = os.path.relpath(full, root)
            info = os.lstat(full)
            if not stat.S_ISREG(info.st_mode):
                skipped.append(relative)
                continue
            with open(full, "rb") as stream:
                files.append(_entry(relative, info.st_size, _digest(stream), info.st_mode, info.st_uid, info.st_gid))
    return {"files": sorted(files, key=lambda f: f["path"]), "skipped": sorted(skipped),
            "directories": sorted(directories, key=lambda d: d["path"])}


def walk_archive(path: str) -> dict:
    """Every regular file a tar.gz holds, path relative to the archive's root ('./' dropped)."""
    files, skipped, directories = [], [], []
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            relative = os.path.normpath(member.name)
            if member.isdir():
                directories.append(_directory(relative, member.mode, member.uid, member.gid))
                continue
            if not member.isreg():
                skipped.append(relative)
                continue
            with archive.extractfile(member) as stream:
                files.append(_entry(relative, member.size, _digest(stream), member.mode, member.uid, member.gid))
    return {"files": sorted(files, key=lambda f: f["path"]), "skipped": sorted(skipped),
            "directories": sorted(directories, key=lambda d: d["path"])}


def object_path(store: str, sha256: str) -> str:
    return os.path.join(store, sha256[:2], sha256)


def _copy_hashing(source: str, target: str) -> tuple[str, int]:
    """Copy source to target, hashing what is copied; the target is flushed to disk."""
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as read_from, open(target, "wb") as write_to:
        for block in iter(lambda: read_from.read(CHUNK), b""):
            digest.update(block)
            write_to.write(block)
            size += len(block)
        write_to.flush()
        os.fsync(write_to.fileno())
    return digest.hexdigest(), size


def store_tree(root: str, store: str) -> dict:
    """List the tree and put every file the store lacks into it. A file is read once when its object
    exists; otherwise it is copied while hashed and the list records what was copied (a file the app
    rewrites meanwhile is listed as stored, never as a mix)."""
    walked = walk_tree(root)
    new_objects, new_bytes = [], 0
    for entry in walked["files"]:
        if os.path.exists(object_path(store, entry["sha256"])):
            continue
        os.makedirs(os.path.join(store, entry["sha256"][:2]), exist_ok=True)
        partial = object_path(store, entry["sha256"]) + ".partial"
        copied, size = _copy_hashing(os.path.join(root, entry["path"]), partial)
        entry.update(sha256=copied, size=size)
        final = object_path(store, copied)
        if os.path.exists(final):
            os.unlink(partial)
            continue
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.rename(partial, final)
        new_objects.append(copied)
        new_bytes += size
    return {**walked, "new_objects": sorted(new_objects), "new_bytes": new_bytes}


def _own(path: str, entry: dict) -> None:
    """Give path the recorded mode and, when the list has it (lists written since owners are recorded),
    the recorded owner."""
    if "uid" in entry:
        os.chown(path, entry["uid"], entry["gid"])
    os.chmod(path, int(entry["mode"], 8))


def rebuild_tree(list_path: str, store: str, target: str) -> dict:
    """Copy every listed file from the store to target/path with its recorded mode and owner, checking
    each object's hash as it is copied; absent objects are left out, and a corrupt one is copied as it
    is, so the comparison with the list names both. Directories get their recorded mode and owner."""
    with open(list_path) as stream:
        recorded = json.load(stream)
    absent, corrupt = [], []
    for entry in recorded.get("directories", []):
        os.makedirs(os.path.join(target, entry["path"]), exist_ok=True)
    for entry in recorded["files"]:
        source = object_path(store, entry["sha256"])
        if not os.path.exists(source):
            absent.append(entry["path"])
            continue
        destination = os.path.join(target, entry["path"])
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        copied, _ = _copy_hashing(source, destination)
        _own(destination, entry)
        if copied != entry["sha256"]:
            corrupt.append(entry["path"])
    for entry in sorted(recorded.get("directories", []), key=lambda d: d["path"].count("/"), reverse=True):
        _own(os.path.normpath(os.path.join(target, entry["path"])), entry)  # deepest first: a 0500 parent last
    return {"absent": absent, "corrupt": corrupt}


def main(argv: list[str]) -> int:
    kind, *args = argv
    found = {"tree": walk_tree, "archive": walk_archive, "store": store_tree, "rebuild": rebuild_tree}[kind](*args)
    json.dump(found, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
