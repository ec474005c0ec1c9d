"""Build a release on the server ([build]): a git tag or commit of the app's checkout, exported clean,
built by compose into `<project>-<service>:<tag>` (the overlay's pinned names).

The export is `git archive` of the commit into a private temporary folder: the operator's working tree,
index and branches are never read or changed, so an uncommitted edit never ships. Compose builds from
the export through an override that moves each service's build context there; the rest of each
`build:` (dockerfile, args, target) stays the app's own.
"""

import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import docker_api, runner
from ..commands import compose as compose_cmd
from ..commands import docker as docker_cmd
from ..commands import git
from ..compose_model import built_here, release_image
from ..config import BuildConfig, OpsConfig
from ..errors import CommandFailed, ConfigError, DeployError
from ..overlay import render_app_model
from .tags import validate_tag

_COMMIT = re.compile(r"[0-9a-f]{7,40}")
COMMIT_LABEL = "io.opsuite.release.commit"


@dataclass
class Built:
    ref: str
    commit: str
    tag: str
    seconds: float = 0.0
    images: dict[str, str] = field(default_factory=dict)  # service -> image id

    def describe(self) -> dict:
        return {"ref": self.ref, "commit": self.commit, "tag": self.tag, "seconds": self.seconds,
                "images": self.images}


def _ask(argv: list[str]) -> str | None:
    done = runner.run(argv, limit="command", check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def resolve(build: BuildConfig, ref: str) -> tuple[str, str]:
    """(commit, release tag) of ref: a git tag keeps its name, a commit is named by its short hash;
    refuses a branch (it moves) and anything the checkout does not hold."""
    commit = _ask(git.tag_commit(build.repository, ref))
    if commit:
        return commit, validate_tag(ref)
    commit = _ask(git.commit_of(build.repository, ref)) if _COMMIT.fullmatch(ref) else None
    if commit:
        return commit, _ask(git.short_hash(build.repository, commit)) or commit[:12]
    raise DeployError(f"--tag={ref} is neither a tag nor a commit of {build.repository} (a branch moves, so it is "
                      "no release): pass a tag (`git -C REPOSITORY tag`) or a commit hash; `git fetch --tags` "
                      "first when it was made elsewhere")


def to_build(config: OpsConfig, tag: str, active: set[str]) -> dict[str, dict]:
    """Each active service built on the server, with its app's own `build:` section."""
    model = render_app_model(config.stack, tag)
    return {name: model["services"][name]["build"] for name in built_here(model) if name in active}


def _inside(path: Path, repository: Path, service: str, what: str) -> Path:
    try:
        return path.resolve().relative_to(repository)
    except ValueError:
        raise ConfigError(f"the {what} of service {service} ({path}) is outside [build] repository = {repository}: "
                          "a release is built from that checkout's commit only; move it into the repository or "
                          "set [build] repository to the checkout that holds it") from None


def build_override(builds: dict[str, dict], repository: Path, export: Path, labels: dict[str, str]) -> dict:
    """The compose override that builds each service from the export instead of the checkout (pure)."""
    services = {}
    for name, section in sorted(builds.items()):
        context = section.get("context") or "."
        if "://" in context or context.startswith("git@"):
            raise ConfigError(f"service {name} builds from {context}, not from [build] repository: give it a "
                              "context inside the checkout")
        moved = {"context": str(export / _inside(Path(context), repository, name, "build context")),
                 "labels": labels}
        dockerfile = section.get("dockerfile")
        if dockerfile and Path(dockerfile).is_absolute():
            moved["dockerfile"] = str(export / _inside(Path(dockerfile), repository, name, "Dockerfile"))
        services[name] = {"build": moved}
    return {"services": services}


def _export(repository: str, commit: str, into: Path) -> Path:
    tar_file, tree = into / "export.tar", into / "tree"
    tree.mkdir()
    runner.run(git.archive(repository, commit, str(tar_file)), limit="build")
    runner.run(git.extract(str(tar_file), str(tree)), limit="build")
    tar_file.unlink()
    return tree


def build_release(ctx, ref: str) -> Built:
    """Build ref's images in a clean export and tag them for the release; raises DeployError with the
    build's own error (unknown ref, a failed build, a missing Dockerfile) before anything live changes."""
    config = ctx.config
    started = time.monotonic()
    commit, tag = resolve(config.build, ref)
    target = ctx.with_tag(tag)
    active = set(target.compose.rendered()["services"])
    builds = to_build(config, tag, active)
    if not builds:
        raise ConfigError("[build] is set, but no service of the app's compose files builds on the server "
                          "(`build:`); remove [build] to pull images by TAG")
    built = Built(ref, commit, tag)
    scratch = Path(tempfile.mkdtemp(prefix="opsuite-build-"))  # 0700: only the suite's user reads it
    try:
        tree = _export(config.build.repository, commit, scratch)
        labels = {docker_cmd.RELEASE_LABEL: config.stack.project, COMMIT_LABEL: commit}
        override = scratch / "build.json"
        override.write_text(json.dumps(build_override(builds, Path(config.build.repository), tree, labels)))
        stack = replace(config.stack, compose_files=(*config.stack.compose_files, override))
        try:
            target.compose.run(compose_cmd.build(stack, sorted(builds)), limit="build")
        except CommandFailed as e:
            raise DeployError(f"building {ref} ({commit[:12]}) failed; nothing was changed: {e.reason}\n"
                              f"{e.stderr_tail}") from e
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for name in sorted(builds):
        image = release_image(config.stack.project, name, tag)
        built.images[name] = docker_api.image_id(image)
    built.seconds = round(time.monotonic() - started, 3)
    return built
