"""argv builders for rclone; the config file path comes from RCLONE_CONFIG in the backup service."""

# No --drive-use-trash=false: on Drive a deletion goes to the trash, which still counts against the quota
# but is a last undo after a wrong deletion (empty it with `rclone cleanup`; docs/BACKUPS.md section 4).
# A copy's live progress: rclone's own one-line stats every 5 s and at the end, on stderr at the default
# log level (NOTICE) so no per-file INFO lines come with them (procedures/remote/rclone_progress.py).
STATS_FLAGS = ["--stats=5s", "--stats-one-line", "--stats-log-level=NOTICE"]


def listremotes() -> list[str]:
    return ["rclone", "listremotes", "--long"]


def mkdir(remote_path: str) -> list[str]:
    return ["rclone", "mkdir", remote_path]


def lsjson(remote_path: str) -> list[str]:
    return ["rclone", "lsjson", "--files-only", "--hash", remote_path]


def copy_files(local_dir: str, remote_path: str, names: list[str]) -> list[str]:
    """Copy the named files. Each was named because the remote lacks it or holds it damaged: --ignore-times
    sends it even when the damaged copy shows the same size and time."""
    argv = ["rclone", "copy", *STATS_FLAGS, "--no-traverse", "--ignore-times"]
    for name in names:
        argv += ["--include", f"/{name}"]
    return argv + [local_dir, remote_path]


def check(local_dir: str, remote_path: str, names: list[str], *, crypt: bool) -> list[str]:
    """Compare local files with their remote copies: size and hash (cryptcheck on a crypt remote)."""
    argv = ["rclone", "cryptcheck" if crypt else "check", "--one-way"]
    for name in names:
        argv += ["--include", f"/{name}"]
    return argv + [local_dir, remote_path]


def delete_files(remote_path: str, names_file: str) -> list[str]:
    """Delete exactly the files named in names_file (one a line) from remote_path; one that is already
    gone (another host with the same identity pruned it) is no error."""
    return ["rclone", "delete", "--files-from-raw", names_file, remote_path]


def copy_set_to_local(remote_path: str, set_name: str, local_dir: str) -> list[str]:
    """Copy every file of one backup set (dump, manifest, uploads archive and list) from the remote."""
    return ["rclone", "copy", *STATS_FLAGS, "--include", f"/{set_name}.*", remote_path, local_dir]


def copy_objects(local_store: str, remote_store: str, objects_file: str) -> list[str]:
    """Copy the store objects named in objects_file (one relative path a line) the remote lacks or
    holds at another size. An object's name is its content's hash, so a whole one is never sent again,
    while one an interrupted upload left short (a backend writing under the final name) is sent again;
    --ignore-existing would keep it short for good."""
    return ["rclone", "copy", *STATS_FLAGS, "--size-only", "--files-from-raw", objects_file, local_store, remote_store]


def check_objects(local_store: str, remote_store: str, objects_file: str, *, crypt: bool) -> list[str]:
    """Compare the named store objects with their remote copies: size and hash (cryptcheck on crypt)."""
    return ["rclone", "cryptcheck" if crypt else "check", "--one-way", "--files-from-raw", objects_file,
            local_store, remote_store]


def list_objects(remote_store: str) -> list[str]:
    """Every object under the remote store, relative to it, one a line (nothing when it does not exist yet)."""
    return ["rclone", "lsf", "--recursive", "--files-only", remote_store]


def list_objects_aged(remote_store: str) -> list[str]:
    """Every object under the remote store, as JSON with its path and modification time (for the grace period)."""
    return ["rclone", "lsjson", "--recursive", "--files-only", "--no-mimetype", remote_store]


def delete_objects(remote_store: str, objects_file: str) -> list[str]:
    """Delete exactly the store objects named in objects_file (to Drive's trash on Drive)."""
    return ["rclone", "delete", "--files-from-raw", objects_file, remote_store]


def cat(remote_file: str) -> list[str]:
    return ["rclone", "cat", remote_file]


def copy_objects_to_local(remote_store: str, objects_file: str, local_store: str) -> list[str]:
    """Download the named store objects (for a set fetched from the remote)."""
    return ["rclone", "copy", *STATS_FLAGS, "--files-from-raw", objects_file, remote_store, local_store]


def providers() -> list[str]:
    """Every storage this rclone knows, with its options as JSON (IsPassword: stored obscured)."""
    return ["rclone", "config", "providers"]


def obscure_stdin() -> list[str]:
    """Obscure the value on stdin as rclone.conf stores passwords (never a secret in argv)."""
    return ["rclone", "obscure", "-"]


def delete_file(remote_file: str) -> list[str]:
    return ["rclone", "deletefile", remote_file]


def rmdir(remote_path: str) -> list[str]:
    """Remove an empty remote folder (never one that still holds anything)."""
    return ["rclone", "rmdir", remote_path]


def config_show(remote_name: str) -> list[str]:
    """One remote's section of the config (a crypt remote's `remote =` names the remote it wraps)."""
    return ["rclone", "config", "show", remote_name]


def crypt_encode(crypt_remote: str, paths: list[str]) -> list[str]:
    """The encrypted names, on the wrapped remote, of paths relative to the crypt remote's root; one a line."""
    return ["rclone", "backend", "encode", f"{crypt_remote}:", *paths]


def features(remote: str) -> list[str]:
    """What a remote supports, as JSON (its "Hashes" among them)."""
    return ["rclone", "backend", "features", remote]


def lsjson_hashed(remote_path: str, hash_type: str, names: list[str]) -> list[str]:
    """The named files of a folder with one hash type: a backend that computes hashes (SFTP's md5sum) is
    asked once per file, not once per file and type."""
    argv = ["rclone", "lsjson", "--files-only", "--hash", "--hash-type", hash_type]
    for name in names:
        argv += ["--include", f"/{name}"]
    return argv + [remote_path]
