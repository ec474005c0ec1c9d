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


def rename(source: str, target: str) -> list[str]:
    """Rename within one directory (atomic on one filesystem); refuses to overwrite."""
    return ["mv", "--no-clobber", "--", source, target]


def write_stdin_to(path: str) -> list[str]:
    return ["dd", f"of={path}", "status=none"]


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

