"""Offsite copies with rclone: remote check, upload of whatever is missing, verification by hash."""

import json
from uuid import uuid4
from dataclasses import dataclass

from .. import progress
from ..box import BackupBox
from ..commands import files as files_cmd
from ..commands import rclone as cmd
from ..errors import CommandFailed, OffsiteError
from .rclone_progress import Transfer


@dataclass(frozen=True)
class RemoteStatus:
    path: str
    remote_type: str

    @property
    def crypt(self) -> bool:
        return self.remote_type == "crypt"


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    hashes: dict


def remote_type(box: BackupBox, path: str) -> str:
    """The type of the remote path names (crypt, drive, ...), refused with the fix when rclone's config is
    missing or does not hold it."""
    name = path.split(":", 1)[0]
    try:
        remotes = box.run(cmd.listremotes(), limit="command").stdout
    except CommandFailed as e:
        raise OffsiteError(
            f"rclone config is missing or invalid ({e.stderr_tail.splitlines()[-1] if e.stderr_tail else e}); "
            f"set the remote up: {box.set_up_command()} (docs/BACKUPS.md section 3), or by hand: {box.how_to_run('rclone config')}"
        ) from e
    types = dict(line.split(None, 1) for line in remotes.splitlines() if line.strip())
    if f"{name}:" not in types:
        raise OffsiteError(
            f"rclone remote '{name}:' is not configured in the rclone_config volume; set it up with {box.set_up_command()} "
            f"([offsite_setup], docs/BACKUPS.md section 3), or by hand: {box.how_to_run('rclone config')}"
        )
    return types[f"{name}:"].strip()


def make_folder(box: BackupBox, path: str) -> None:
    try:
        box.run(cmd.mkdir(path), limit="command")
    except CommandFailed as e:
        raise OffsiteError(
            f"remote {path} is unreachable: {e.stderr_tail.splitlines()[-1] if e.stderr_tail else e}. "
            "Check the network and the remote's credentials (rclone config reconnect); the local backup is kept"
        ) from e


def reach(box: BackupBox, path: str, listed: "list[RemoteFile] | None" = None) -> tuple[RemoteStatus, list["RemoteFile"]]:
    """The remote configured and its folder listed (`listed`: this run's listing of it, taken since nothing
    was written there). A folder that lists is reachable and exists, so it is created only when it does not
    list: then the listing is taken again."""
    kind = remote_type(box, path)
    if listed is None:
        try:
            listed = list_remote(box, path)
        except OffsiteError:
            make_folder(box, path)
            listed = list_remote(box, path)
    return RemoteStatus(path, kind), listed


def list_remote(box: BackupBox, path: str) -> list[RemoteFile]:
    try:
        rows = json.loads(box.run(cmd.lsjson(path), limit="command").stdout or "[]")
    except CommandFailed as e:
        raise OffsiteError(f"cannot list {path}: {e.stderr_tail}") from e
    return sorted((RemoteFile(r["Name"], r["Size"], r.get("Hashes") or {}) for r in rows), key=lambda f: f.name)


def stale(local_sizes: dict[str, int], present: dict[str, int], names: list[str]) -> list[str]:
    """The named files the remote holds at another size than the local copy: a truncated upload (rclone
    killed mid-copy on a backend that writes under the final name) or a damaged copy; sent again."""
    return sorted(n for n in names if n in present and n in local_sizes and present[n] != local_sizes[n])


def upload(box: BackupBox, directory: str, status: RemoteStatus, names: list[str], current: list[str],
           present: dict[str, int], transfer: Transfer | None = None,
           local_sizes: dict[str, int] | None = None, resend: list[str] = ()) -> list[str]:
    """Copy the named local files the remote lacks, holds at another size, or that `resend` names (held
    with another size or hash than recorded, or never fingerprinted: remote_hashes.py) (`present`: the
    remote's listing, name -> size), rclone's stats shown live and its final ones kept in `transfer`;
    verify those and the current set by size and hash (cryptcheck on crypt).

    Older sets already offsite and fingerprinted are not re-hashed each night: that would read every kept dump.
    """
    if not names:
        return []
    transfer = transfer or Transfer("upload")
    again = set(stale(local_sizes or {}, present, names)) | (set(resend) & set(names) & set(present))
    missing = [n for n in names if n not in present] + sorted(again)
    to_check = sorted(set(missing) | set(current))
    try:
        if missing:
            transfer.copy(box, "set files", cmd.copy_files(directory, status.path, missing))
        # A check shows no byte counts in rclone's one-line stats: the operator is told what it waits for.
        progress.show(f"{transfer.step}: checking {len(to_check)} files on {status.path} by hash")
        box.run(cmd.check(directory, status.path, to_check, crypt=status.crypt), limit="check")
    except CommandFailed as e:
        raise OffsiteError(f"offsite copy to {status.path} failed or does not match: {e.stderr_tail}") from e
    return missing


def delete(box: BackupBox, status: RemoteStatus, names: list[str]) -> None:
    """Delete exactly the named files of the remote folder in one rclone run (one already gone is no error)."""
    if not names:
        return
    listed = f"/tmp/opsuite-remote-deletions-{uuid4().hex[:8]}.txt"  # never another pruning's list
    box.run(files_cmd.write_stdin_to(listed), limit="command", input_text="".join(f"{n}\n" for n in sorted(names)))
    box.run(cmd.delete_files(status.path, listed), limit="copy")
