"""The remote's own fingerprint of each file in a remote folder: its size and the hash the backend
keeps (Drive's md5, S3's, SFTP's md5sum), read from a listing, never by downloading the file.

Recorded when the copy is known good (checked against the local file after upload) and compared on
every later listing, it verifies the sets only the remote holds: a truncated or altered object shows
another size or hash. crypt keeps no hash of its own, so over a crypt remote the hash is that of the
encrypted object on the remote it wraps (found through `rclone config show` and `backend encode`).
"""

import json
from dataclasses import dataclass

from ..box import BackupBox
from ..commands import rclone as cmd
from ..errors import CommandFailed, OffsiteError
from ..remote.offsite import RemoteFile, RemoteStatus

# The first a backend offers is used; the same one every time, so a record compares with a listing.
PREFERRED = ("md5", "sha1", "sha256", "quickxor", "dropbox", "crc32")


@dataclass(frozen=True)
class Fingerprint:
    size: int
    hash: str | None  # "md5:<hex>"; None where the backend keeps no hash

    def to_json(self) -> dict:
        return {"size": self.size, "hash": self.hash}

    @classmethod
    def from_json(cls, recorded: dict) -> "Fingerprint":
        return cls(int(recorded["size"]), recorded.get("hash"))


def pick(hashes: dict) -> str | None:
    """The preferred hash among those a listing gave, as "type:hex"; None when it gave none."""
    found = next((t for t in PREFERRED if hashes.get(t)), None) or next((t for t in sorted(hashes) if hashes[t]), None)
    return f"{found}:{hashes[found]}" if found else None


def disagreeing(recorded: dict[str, Fingerprint], current: dict[str, Fingerprint]) -> list[str]:
    """Files listed now at another size, or another hash of the same type, than recorded."""
    def differs(was: Fingerprint, now: Fingerprint) -> bool:
        same_kind = was.hash and now.hash and was.hash.split(":", 1)[0] == now.hash.split(":", 1)[0]
        return was.size != now.size or bool(same_kind and was.hash != now.hash)
    return sorted(n for n in current if n in recorded and differs(recorded[n], current[n]))


def wrapped_remote(config_section: str) -> str | None:
    """The `remote =` of a crypt remote's config section (no other line is kept: one holds the password)."""
    for line in config_section.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "remote" and value.strip():
            return value.strip()
    return None


def join(remote: str, path: str) -> str:
    return remote + path if remote.endswith(":") else f"{remote.rstrip('/')}/{path}"


def hash_type(box: BackupBox, remote: str) -> str | None:
    """The preferred hash type the remote keeps; None when it keeps none."""
    offered = json.loads(box.ask_once(cmd.features(remote)) or "{}").get("Hashes") or []
    return next((t for t in PREFERRED if t in offered), offered[0] if offered else None)


def _hashes_at(box: BackupBox, remote: str, folder: str, by_listed_name: dict[str, str]) -> dict[str, str | None]:
    """The hashes `remote` keeps of the named files in folder (listed name -> our name), by our name."""
    kind = hash_type(box, remote) if by_listed_name else None
    if kind is None:
        return {}
    rows = json.loads(box.run(cmd.lsjson_hashed(folder, kind, sorted(by_listed_name)), limit="command").stdout or "[]")
    return {by_listed_name[r["Name"]]: pick(r.get("Hashes") or {}) for r in rows if r["Name"] in by_listed_name}


def encoded_names(box: BackupBox, crypt_name: str, paths: list[str]) -> list[str]:
    """The encrypted names of paths (relative to the crypt remote's root), one `backend encode` for those
    this box was not asked before: a name's encryption is fixed by the config, which no run changes."""
    unknown = [p for p in paths if tuple(cmd.crypt_encode(crypt_name, [p])) not in box.answers]
    if unknown:
        encoded = box.run(cmd.crypt_encode(crypt_name, unknown), limit="command").stdout.split()
        if len(encoded) != len(unknown):
            raise OffsiteError(f"rclone backend encode gave {len(encoded)} names for {len(unknown)} paths of {crypt_name}:")
        for path, name in zip(unknown, encoded):
            box.answers[tuple(cmd.crypt_encode(crypt_name, [path]))] = name
    return [box.answers[tuple(cmd.crypt_encode(crypt_name, [p]))] for p in paths]


def _crypt_hashes(box: BackupBox, status: RemoteStatus, names: list[str]) -> dict[str, str | None]:
    crypt_name, _, folder = status.path.partition(":")
    wrapped = wrapped_remote(box.ask_once(cmd.config_show(crypt_name)))
    if wrapped is None or not names:
        return {}
    encoded = encoded_names(box, crypt_name, [f"{folder.strip('/')}/{n}" for n in names])
    by_encrypted = {e.rsplit("/", 1)[-1]: n for e, n in zip(encoded, names)}
    return _hashes_at(box, wrapped, join(wrapped, encoded[0].rsplit("/", 1)[0]), by_encrypted)


def fingerprints(box: BackupBox, status: RemoteStatus, listing: list[RemoteFile]) -> dict[str, Fingerprint]:
    """Each listed file's size (as the remote shows it) and the backend's own hash (of the encrypted
    object on a crypt remote's wrapped remote; asked of the remote for files listed without one);
    raises OffsiteError when the hashes cannot be listed."""
    try:
        if status.crypt:
            hashes = _crypt_hashes(box, status, [f.name for f in listing])
        else:
            unhashed = {f.name: f.name for f in listing if pick(f.hashes) is None}
            hashes = {**{f.name: pick(f.hashes) for f in listing},
                      **_hashes_at(box, status.path.partition(":")[0] + ":", status.path, unhashed)}
    except (CommandFailed, ValueError) as e:
        raise OffsiteError(f"cannot list the hashes of {status.path}: {getattr(e, 'stderr_tail', e)}") from e
    return {f.name: Fingerprint(f.size, hashes.get(f.name)) for f in listing}
