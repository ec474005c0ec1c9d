"""argv builders for rclone; the config file path comes from RCLONE_CONFIG in the backup service."""

# Drive sends deletions to the trash, which still counts against quota: retention deletes for good.
DELETE_FLAGS = ["--drive-use-trash=false"]


def listremotes() -> list[str]:
    return ["rclone", "listremotes", "--long"]


def mkdir(remote_path: str) -> list[str]:
    return ["rclone", "mkdir", remote_path]


def lsjson(remote_path: str) -> list[str]:
    return ["rclone", "lsjson", "--files-only", "--hash", remote_path]


def copy_files(local_dir: str, remote_path: str, names: list[str]) -> list[str]:
    """Copy the named files (skipping ones already identical remotely)."""
    argv = ["rclone", "copy", "--no-traverse"]
    for name in names:
        argv += ["--include", f"/{name}"]
    return argv + [local_dir, remote_path]


def check(local_dir: str, remote_path: str, names: list[str], *, crypt: bool) -> list[str]:
    """Compare local files with their remote copies: size and hash (cryptcheck on a crypt remote)."""
    argv = ["rclone", "cryptcheck" if crypt else "check", "--one-way"]
    for name in names:
        argv += ["--include", f"/{name}"]
    return argv + [local_dir, remote_path]


def delete_file(remote_file: str) -> list[str]:
    return ["rclone", "deletefile", *DELETE_FLAGS, remote_file]


def copy_set_to_local(remote_path: str, set_name: str, local_dir: str) -> list[str]:
    """Copy every file of one backup set (dump, manifest, uploads archive and list) from the remote."""
    return ["rclone", "copy", "--include", f"/{set_name}.*", remote_path, local_dir]
