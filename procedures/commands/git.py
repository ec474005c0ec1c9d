"""argv builders for `git` over the app's checkout ([build] repository): read-only questions and an
export of one commit; none of them touches the checkout's working tree or index."""


def _git(repository: str, *args: str) -> list[str]:
    # A checkout owned by the app's user is still read when the suite runs as root (git's
    # "dubious ownership" refusal is about running hooks and config from it, which these never do).
    return ["git", "-c", f"safe.directory={repository}", "-C", repository, *args]


def tag_commit(repository: str, tag: str) -> list[str]:
    """The commit a tag points at; exits non-zero when no such tag exists."""
    return _git(repository, "rev-parse", "--verify", "--quiet", "--end-of-options", f"refs/tags/{tag}^{{commit}}")


def commit_of(repository: str, ref: str) -> list[str]:
    """The full hash of the commit ref names; exits non-zero when it names none."""
    return _git(repository, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")


def short_hash(repository: str, commit: str) -> list[str]:
    return _git(repository, "rev-parse", "--short=12", "--end-of-options", commit)


def archive(repository: str, commit: str, output: str) -> list[str]:
    """The commit's tree as a tar file: what was committed, never the working tree's edits."""
    return _git(repository, "archive", "--format=tar", f"--output={output}", "--end-of-options", commit)


def extract(tar_file: str, into: str) -> list[str]:
    """Unpack an export; owners are not restored (a build context needs none), and every file is dated
    now, not at its commit: BuildKit resends only files whose size or time changed since its last
    transfer, so two commits of one second with a same-size edit (a version bump) built the older one."""
    return ["tar", "--extract", "--no-same-owner", "--touch", "--file", tar_file, "--directory", into]
