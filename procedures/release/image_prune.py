"""Old release images built on the server ([build]) removed beyond the newest [build] keep_releases;
the serving and the previous release's images are always kept, so a rollback never needs a build.

`choose` is the decision (pure); `remove` is the one place that removes an image, and refuses any that
is not a release image of this project or that the decision must keep.
"""

import json

from .. import runner
from ..commands import docker as docker_cmd
from ..errors import CommandFailed, UnsafeOperation


def release_tags(rows: list[dict]) -> list[str]:
    """Release tags from `docker image ls` rows, newest build first (each tag once)."""
    newest: dict[str, str] = {}
    for row in rows:
        tag = row.get("Tag")
        if tag and tag != "<none>":
            newest[tag] = max(newest.get(tag, ""), row.get("CreatedAt", ""))
    return sorted(newest, key=lambda t: (newest[t], t), reverse=True)


def choose(tags_newest_first: list[str], keep: int, protected: set[str]) -> list[str]:
    """The tags to remove: all but the newest `keep`, never a protected one (serving, previous)."""
    kept = set(tags_newest_first[:keep]) | protected
    return [t for t in tags_newest_first if t not in kept]


def remove(project: str, row: dict, protected: set[str]) -> None:
    """Remove one release image by name; refuses an image the suite did not build for this project
    and a protected tag."""
    repository, tag = row.get("Repository", ""), row.get("Tag", "")
    if not repository.startswith(f"{project}-") or tag in protected or not tag or tag == "<none>":
        raise UnsafeOperation(f"refused to remove image {repository}:{tag}: only old release images of "
                              f"{project} are removed, never the serving or previous release ({sorted(protected)})")
    runner.run(docker_cmd.image_remove(f"{repository}:{tag}"), limit="command")


def prune(project: str, keep: int, protected: set[str]) -> dict:
    """Remove this project's release images beyond the newest `keep`; what was removed, kept and refused."""
    out = runner.run(docker_cmd.release_images(project), limit="command").stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    tags = release_tags(rows)
    chosen = choose(tags, keep, protected)
    removed, failed = [], []
    for row in rows:
        if row.get("Tag") not in chosen:
            continue
        try:
            remove(project, row, protected)
            removed.append(f"{row['Repository']}:{row['Tag']}")
        except CommandFailed as e:  # a stopped container still uses it: kept, said, tried again next time
            failed.append({"image": f"{row['Repository']}:{row['Tag']}", "error": e.stderr_tail})
    return {"keep": keep, "kept": [t for t in tags if t not in chosen], "removed": removed, "failed": failed}
