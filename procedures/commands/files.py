"""argv builders for file operations inside the backup container (coreutils, tar)."""


def listing(directory: str) -> list[str]:
    """One line per regular file: name, size in bytes, mtime (epoch seconds)."""
    return ["find", directory, "-maxdepth", "1", "-type", "f", "-printf", "%f\t%s\t%T@\n"]


def free_bytes(directory: str) -> list[str]:
    return ["df", "--block-size=1", "--output=avail", directory]


def sha256(path: str) -> list[str]:
    return ["sha256sum", "--", path]


def size(path: str) -> list[str]:
    return ["stat", "--format=%s", "--", path]


def sizes(paths: list[str]) -> list[str]:
    """The size in bytes of each path, one a line in the order given (stat fails when one is missing)."""
    return ["stat", "--format=%s", "--", *paths]


def rename(source: str, target: str) -> list[str]:
    """Rename within one directory (atomic on one filesystem); refuses to overwrite."""
    return ["mv", "--no-clobber", "--", source, target]


def write_stdin_to(path: str) -> list[str]:
    return ["dd", f"of={path}", "status=none"]


def write_private_stdin_to(path: str) -> list[str]:
    """Write stdin to path readable by its owner only from its first byte (umask 077, not a later chmod)."""
    return ["sh", "-c", 'umask 077 && exec dd of="$1" status=none', "sh", path]


def replace(source: str, target: str) -> list[str]:
    """Rename source over target within one directory (atomic on one filesystem)."""
    return ["mv", "--force", "--no-target-directory", "--", source, target]


def read(path: str) -> list[str]:
    return ["cat", "--", path]


def remove(paths: list[str]) -> list[str]:
    return ["rm", "-f", "--", *paths]


def make_dir(path: str) -> list[str]:
    return ["mkdir", "--parents", "--", path]


def remove_tree(path: str) -> list[str]:
    return ["rm", "-rf", "--", path]


def archive(source_dir: str, target: str) -> list[str]:
    return ["tar", "--create", "--gzip", "--file", target, "--directory", source_dir, "."]


def archive_paths(root: str, members: list[str], target: str) -> list[str]:
    """A tar.gz of paths under root, each member named by its path below root; a hard link is stored
    as the file it is, as extraction gives it back (the drill compares the two)."""
    return ["tar", "--create", "--gzip", "--hard-dereference", "--file", target, "--directory", root, "--", *members]


def list_archive(archive_path: str) -> list[str]:
    """The member names of a tar.gz, read from end to end (gzip checks every byte)."""
    return ["tar", "--list", "--gzip", "--file", archive_path]


def extract_archive(archive_path: str, target_dir: str) -> list[str]:
    """Unpack a tar.gz into target_dir, keeping the modes and the numeric owners it records (user names
    in the backup image mean nothing to the app's image)."""
    return ["tar", "--extract", "--gzip", "--preserve-permissions", "--numeric-owner", "--file", archive_path,
            "--directory", target_dir]


def walk_uploads(kind: str, source: str) -> list[str]:
    """Run the uploads lister (its source on stdin) over a tree ("tree") or a tar.gz ("archive")."""
    if kind not in ("tree", "archive"):
        raise ValueError(f"walk_uploads kind must be 'tree' or 'archive', not {kind!r}")
    return ["python3", "-", kind, source]


def store_uploads(source_dir: str, store: str) -> list[str]:
    """Run the uploads lister (its source on stdin) to list a tree and add the files the store lacks."""
    return ["python3", "-", "store", source_dir, store]


def rebuild_uploads(list_path: str, store: str, target_dir: str) -> list[str]:
    """Run the uploads lister (its source on stdin) to rebuild a tree from a file list and the store."""
    return ["python3", "-", "rebuild", list_path, store, target_dir]


def store_listing_aged(store: str) -> list[str]:
    """Every file under the uploads store as `<unix seconds> <path relative to it>`, one a line."""
    return ["find", store, "-mindepth", "2", "-maxdepth", "2", "-type", "f", "-printf", "%T@ %P\n"]


def store_listing(store: str) -> list[str]:
    """Every file under the uploads store, relative to it (`ab/ab12...`), one a line."""
    return ["find", store, "-mindepth", "2", "-maxdepth", "2", "-type", "f", "-printf", "%P\n"]
