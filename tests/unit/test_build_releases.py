"""Releases built on the server ([build]): argv, naming, ref resolution, the build override and the
choice of release images to prune."""

import subprocess
from pathlib import Path

import pytest

from procedures.commands import compose as compose_cmd
from procedures.commands import docker as docker_cmd
from procedures.commands import git
from procedures.adopt.proposal import _build_lines
from procedures.compose_model import built_here, built_on_server, release_image
from procedures.config import BuildConfig, StackConfig
from procedures.load import load_config
from procedures.errors import ConfigError, DeployError, UnsafeOperation
from procedures.release import image_prune
from procedures.release.build import build_override, resolve

pytestmark = pytest.mark.unit


def test_git_argv_reads_the_checkout_and_never_its_working_tree():
    safe = ["git", "-c", "safe.directory=/srv/app", "-C", "/srv/app"]
    assert git.tag_commit("/srv/app", "v1") == [
        *safe, "rev-parse", "--verify", "--quiet", "--end-of-options", "refs/tags/v1^{commit}"]
    assert git.commit_of("/srv/app", "abc1234") == [
        *safe, "rev-parse", "--verify", "--quiet", "--end-of-options", "abc1234^{commit}"]
    assert git.short_hash("/srv/app", "f" * 40) == [*safe, "rev-parse", "--short=12", "--end-of-options", "f" * 40]
    assert git.archive("/srv/app", "f" * 40, "/tmp/x/export.tar") == [
        *safe, "archive", "--format=tar", "--output=/tmp/x/export.tar", "--end-of-options", "f" * 40]
    assert git.extract("/tmp/x/export.tar", "/tmp/x/tree") == [
        "tar", "--extract", "--no-same-owner", "--touch", "--file", "/tmp/x/export.tar", "--directory", "/tmp/x/tree"]


def test_compose_build_and_image_argv():
    stack = StackConfig("zen", (Path("/srv/app/docker-compose.yml"), Path("/tmp/b/build.json")))
    assert compose_cmd.build(stack, ["api", "frontend"]) == [
        "docker", "compose", "--project-name", "zen", "--file", "/srv/app/docker-compose.yml",
        "--file", "/tmp/b/build.json", "build", "api", "frontend"]
    assert docker_cmd.release_images("zen") == [
        "docker", "image", "ls", "--filter", "label=io.opsuite.release.project=zen", "--format", "{{json .}}"]
    assert docker_cmd.image_remove("zen-api:v1") == ["docker", "image", "rm", "zen-api:v1"], "never --force"


def test_a_service_built_on_the_server_is_named_by_project_service_and_tag():
    model = {"services": {"api": {"build": {"context": "/srv/app"}}, "db": {"image": "postgres:15"},
                          "web": {"build": {"context": "/srv/app"}, "image": "ghcr.io/x/web:1"}}}
    assert built_on_server(model) == ["api"], "a service that names its image is pulled by that name"
    assert release_image("zenops", "email-worker", "v2") == "zenops-email-worker:v2"


def test_a_service_that_builds_and_names_its_image_is_built_here_with_build(tmp_path):
    """full-stack-fastapi-template builds its backend as `image: ${DOCKER_IMAGE_BACKEND}:${TAG-latest}` beside
    `build:`, and its own deploy runs `docker compose build` on the server: a release built here builds it too."""
    model = {"services": {"backend": {"build": {"context": str(tmp_path)}, "image": "backend:latest"},
                          "prestart": {"build": {"context": str(tmp_path)}, "image": "backend:latest"},
                          "db": {"image": "postgres:18"}}}
    assert built_here(model) == ["backend", "prestart"]
    assert built_on_server(model) == [], "without [build] such a service is still pulled by the name it gives"
    (tmp_path / ".git").mkdir()
    lines = _build_lines(model, "app", [tmp_path / "compose.yml"])
    assert "[build]" in lines and any(line.startswith(f'repository = "{tmp_path}"') for line in lines)
    assert any("instead of the image named in the compose file" in line for line in lines)


def test_the_build_override_moves_each_context_into_the_export(tmp_path):
    repo = Path("/srv/app")
    builds = {"api": {"context": "/srv/app/backend", "dockerfile": "Dockerfile"},
              "frontend": {"context": "/srv/app/frontend", "dockerfile": "/srv/app/docker/frontend.Dockerfile"}}
    labels = {"io.opsuite.release.project": "zen"}
    assert build_override(builds, repo, Path("/tmp/b/tree"), labels) == {"services": {
        "api": {"build": {"context": "/tmp/b/tree/backend", "labels": labels}},
        "frontend": {"build": {"context": "/tmp/b/tree/frontend", "labels": labels,
                               "dockerfile": "/tmp/b/tree/docker/frontend.Dockerfile"}}}}


@pytest.mark.parametrize("context", ["/srv/other/backend", "https://github.com/x/y.git"])
def test_a_context_outside_the_checkout_is_refused(context):
    with pytest.raises(ConfigError, match="repository"):
        build_override({"api": {"context": context}}, Path("/srv/app"), Path("/tmp/b/tree"), {})


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    repo = tmp_path_factory.mktemp("checkout")
    def git_(*args):
        return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout
    git_("init", "-q")
    for n in (1, 2):
        (repo / "f").write_text(str(n))
        git_("add", "f")
        git_("-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-q", "-m", f"c{n}")
        git_("tag", f"v{n}")
    git_("tag", "latest")
    return repo, git_("rev-parse", "v1").strip()


def test_a_git_tag_is_the_release_tag_and_a_commit_its_short_hash(checkout):
    repo, v1 = checkout
    build = BuildConfig(str(repo))
    assert resolve(build, "v1") == (v1, "v1")
    assert resolve(build, v1) == (v1, v1[:12])
    assert resolve(build, v1[:8]) == (v1, v1[:12])


@pytest.mark.parametrize("ref", ["v9", "master", "HEAD", "deadbeef99"])
def test_an_unknown_ref_or_a_branch_is_refused(checkout, ref):
    with pytest.raises(DeployError, match="neither a tag nor a commit"):
        resolve(BuildConfig(str(checkout[0])), ref)


def test_a_moving_tag_name_is_refused_even_when_git_has_it(checkout):
    with pytest.raises(ConfigError, match="moving tag"):
        resolve(BuildConfig(str(checkout[0])), "latest")


def _config(tmp_path, build: str) -> Path:
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text(f'[stack]\nproject = "zen"\ncompose_files = ["docker-compose.yml"]\n{build}')
    return path


def test_build_section_is_checked_at_load(tmp_path, checkout):
    assert load_config(_config(tmp_path, "")).build is None
    loaded = load_config(_config(tmp_path, f'[build]\nrepository = "{checkout[0]}"\n')).build
    assert (loaded.repository, loaded.keep_releases) == (str(checkout[0]), 3)
    with pytest.raises(ConfigError, match=r"\[build\] repository .* is not a git checkout"):
        load_config(_config(tmp_path, '[build]\nrepository = "."\n'))
    with pytest.raises(ConfigError, match=r"\[build\] repository is missing: it takes the app's git checkout.*e.g. repository = \"/srv/app\""):
        load_config(_config(tmp_path, "[build]\n"))
    with pytest.raises(ConfigError, match=r"\[build\] keep_releases = 1: expected a whole number, 2 or more"):
        load_config(_config(tmp_path, f'[build]\nrepository = "{checkout[0]}"\nkeep_releases = 1\n'))


def row(tag: str, created: str, repository: str = "zen-api") -> dict:
    return {"Repository": repository, "Tag": tag, "CreatedAt": f"2026-12-0{created} 10:00:00 +0000 UTC"}


def test_release_tags_newest_first_each_once():
    rows = [row("v1", "1"), row("v1", "1", "zen-frontend"), row("v3", "3"), row("v2", "2"), row("<none>", "4")]
    assert image_prune.release_tags(rows) == ["v3", "v2", "v1"]


@pytest.mark.parametrize("tags, keep, protected, removed", [
    (["v5", "v4", "v3", "v2", "v1"], 3, {"v5", "v4"}, ["v2", "v1"]),
    # a rollback to v1 serves it and v5 is previous: both stay, beyond the newest three
    (["v5", "v4", "v3", "v2", "v1"], 3, {"v1", "v5"}, ["v2"]),
    (["v2", "v1"], 3, {"v2", "v1"}, []),
    (["v4", "v3", "v2", "v1"], 2, {"v2", "v1"}, []),
])
def test_pruning_keeps_the_newest_and_never_the_serving_or_previous(tags, keep, protected, removed):
    assert image_prune.choose(tags, keep, protected) == removed


def test_pruning_choice_never_holds_a_protected_tag():
    tags = [f"v{n}" for n in range(20, 0, -1)]
    for keep in (2, 3, 5):
        for serving in tags:
            for previous in tags[::3]:
                chosen = image_prune.choose(tags, keep, {serving, previous})
                assert serving not in chosen and previous not in chosen
                assert len(tags) - len(chosen) <= keep + 2


def test_removal_refuses_the_serving_release_and_foreign_images(monkeypatch):
    ran = []
    monkeypatch.setattr(image_prune.runner, "run", lambda argv, **kw: ran.append(argv))
    with pytest.raises(UnsafeOperation, match="never the serving or previous"):
        image_prune.remove("zen", row("v2", "2"), {"v2", "v1"})
    with pytest.raises(UnsafeOperation):
        image_prune.remove("zen", row("v0", "1", "postgres"), {"v2"})
    assert ran == []
    image_prune.remove("zen", row("v0", "1"), {"v2", "v1"})
    assert ran == [["docker", "image", "rm", "zen-api:v0"]]
