"""[backup] paths: host directories an app keeps on bind mounts, archived into each set.

The backup container sees each path read-only under ROOT at its own host path, so the archive's
members are named by where they live on the host (srv/shop/data/...). The archive is written under
a partial name, hashed, walked (a whole read: gzip's checksum covers every byte) and only then
renamed. The walk records every member in the manifest (`members`: each file's path, size, sha256,
mode and owner, each directory's mode and owner), read from the archive rather than the live
directory, so a file the app rewrites meanwhile cannot make them disagree; the restore drill
extracts the archive and compares what comes out with it (procedures/restore/host_paths.py).
The members live in the manifest, not a list file beside it: bind-mounted app data is small
(configuration, a few thousand files) and one file less keeps every set's plumbing (offsite copy,
retention, fetch) as it is. Verifying a set checks the archive's checksum and entry count
(procedures/sets/verify.py: verify_paths).
"""

from ..box import BackupBox
from ..commands import files as cmd
from ..errors import CommandFailed
from ..sets import files, uploads_list

ROOT = "/opsuite-paths"
_CHANGED_WHILE_READ = 1  # GNU tar: some file changed while it was read; the archive is still whole


def mounts(paths: tuple[str, ...]) -> list[str]:
    """The backup container's read-only mounts of the host paths."""
    return [f"{path}:{ROOT}{path}:ro" for path in paths]


def members(paths: tuple[str, ...]) -> list[str]:
    return [path.lstrip("/") for path in paths]


def entry_counts(walked: dict) -> dict:
    """The entries a walk of the archive found, counted as `tar --list` counts them."""
    count = len(walked["files"])
    return {"entries": count + len(walked["directories"]) + len(walked["skipped"]), "files": count}


def archive(box: BackupBox, paths: tuple[str, ...], final: str, timeout: float) -> dict:
    """Archive the host paths into final (partial name until walked), with size, sha256, entry counts and
    every member."""
    partial = final + files.PARTIAL
    done = box.run(cmd.archive_paths(ROOT, members(paths), partial), limit="dump", check=False, timeout=timeout)
    if done.returncode not in (0, _CHANGED_WHILE_READ):
        raise CommandFailed(done.argv, done.returncode, done.stderr[-2000:])
    walked = uploads_list.walk(box, "archive", partial)
    entry = {"file": final.rsplit("/", 1)[-1], "paths": list(paths), "size": files.size(box, partial),
             "sha256": files.sha256(box, partial), **entry_counts(walked),
             "bytes": sum(f["size"] for f in walked["files"]), "members": walked,
             "changed_while_read": done.returncode == _CHANGED_WHILE_READ}
    box.run(cmd.rename(partial, final), limit="command")
    return entry


def described(entry: dict) -> dict:
    """The manifest entry for the evidence: counts and checksum, without every member."""
    return {k: v for k, v in entry.items() if k != "members"}
