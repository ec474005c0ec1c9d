"""Releases built on the server (issue 25, item 2), on the real Zen Ops' shape: api, migrate and email
worker from one Dockerfile, a frontend from another, a profile-only watchdog, every image built from
the app's git checkout by tag or commit. Install v1 (built), deploy v2 (built, migrated, switched),
roll back to v1 without a build; an unknown ref, a broken and a missing Dockerfile stop before the backup
with the build's own error. The operator's working tree (with an uncommitted edit that would break a
build) is never read or changed.
"""

import httpx
import pytest

from procedures import docker_api, ledger, runner
from procedures.commands import docker as docker_cmd
from testkit import disposable, zenops_built
from testkit.ops_run import passed, run_check

pytestmark = [pytest.mark.stack]
BUILT = ("api", "email-worker", "frontend", "migrate")


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    host = zenops_built.create(tmp_path_factory.mktemp("zenops-built"))
    try:
        yield host
    finally:
        disposable.destroy_project(host.project, f"{host.project}_postgres_data")
        for tag in ("v1", "v2"):
            for service in BUILT:
                runner.run(docker_cmd.image_remove(f"{host.project}-{service}:{tag}"), limit="command", check=False)


@pytest.fixture(scope="module")
def stack(host, tmp_path_factory):
    stack = zenops_built.config(host, tmp_path_factory.mktemp("zenops-built-ops"))
    # An edit the operator has not committed: a build that read the working tree would fail on it.
    dockerfile = host.app_dir / "frontend" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN exit 4\n")
    return stack


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("zenops-built-reports")


def releases(stack) -> list[dict]:
    return ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)


def served_build(host) -> str:
    return httpx.get(f"{host.base_url}/version").json()["build"]


def image_id(host, service: str, tag: str) -> str:
    return docker_api.image_id(f"{host.project}-{service}:{tag}")


def working_tree(host) -> str:
    """The tracked files' state (the suite's own overlay and .env backup are untracked files of its own)."""
    return zenops_built.git(host.app_dir, "status", "--porcelain", "--untracked-files=no")


def test_install_builds_v1_from_its_tag(stack, host, reports):
    before = working_tree(host)
    passed(run_check(stack, reports, "install", "--tag=v1")[0])
    entry = releases(stack)[-1]
    assert (entry["action"], entry["tag"], entry["outcome"]) == ("install", "v1", "deployed")
    assert entry["build"]["commit"] == zenops_built.git(host.app_dir, "rev-parse", "v1")
    assert {s: image_id(host, s, "v1") for s in BUILT} == entry["build"]["images"]
    assert served_build(host) == "1.0.0"
    assert working_tree(host) == before == "M frontend/Dockerfile", "the working tree is as it was"


def test_deploy_v2_builds_migrates_and_switches(stack, host, reports):
    done, report = run_check(stack, reports, "deploy", "--tag=v2")
    passed(done)
    assert working_tree(host) == "M frontend/Dockerfile"
    entry = releases(stack)[-1]
    assert (entry["tag"], entry["previous_tag"], entry["outcome"]) == ("v2", "v1", "deployed")
    built = entry["build"]
    assert built["commit"] == zenops_built.git(host.app_dir, "rev-parse", "v2") and built["seconds"] > 0
    assert built["images"] == {s: image_id(host, s, "v2") for s in BUILT}
    assert entry["revision_before"] != entry["revision_after"], "v2's migration ran as the one-off"
    assert served_build(host) == "1.1.0"
    assert built["commit"] in report.read_text(), "the evidence names the commit built"
    assert entry["images_pruned"]["removed"] == [] and set(entry["images_pruned"]["kept"]) == {"v1", "v2"}


def test_rollback_to_v1_needs_no_build(stack, host, reports):
    v1_images = releases(stack)[0]["build"]["images"]
    passed(run_check(stack, reports, "rollback")[0])
    entry = releases(stack)[-1]
    assert (entry["action"], entry["tag"], entry["outcome"]) == ("rollback", "v1", "deployed")
    assert {s: image_id(host, s, "v1") for s in BUILT} == v1_images, "the same images, not rebuilt"
    assert served_build(host) == "1.0.0"


def refused_before_the_backup(stack, host, reports, ref: str) -> str:
    done, _ = run_check(stack, reports, "deploy", f"--tag={ref}")
    assert done.returncode != 0, done.stdout[-3000:]
    entry = releases(stack)[-1]
    assert entry["outcome"] == "failed before the app changed; previous release still serving", entry
    assert entry["backup"] is None and entry["error"].startswith("pull: "), entry
    assert served_build(host) == "1.0.0"
    return entry["error"]


@pytest.mark.fault("deploy of a ref the app's checkout does not have")
def test_an_unknown_ref_is_refused_before_the_backup(stack, host, reports):
    assert "neither a tag nor a commit" in refused_before_the_backup(stack, host, reports, "v9")


@pytest.mark.fault("a release whose Dockerfile fails to build")
def test_a_broken_dockerfile_is_refused_before_the_backup_with_the_builds_error(stack, host, reports):
    dockerfile = host.app_dir / "backend" / "Dockerfile"
    kept = dockerfile.read_text()
    dockerfile.write_text(kept + "RUN echo the-build-broke-here && exit 3\n")
    zenops_built.git(host.app_dir, "add", "backend/Dockerfile")
    broken = zenops_built.commit(host.app_dir, "a broken build", add_all=False)
    dockerfile.write_text(kept)  # the working tree as it was; the commit keeps the break
    error = refused_before_the_backup(stack, host, reports, broken[:10])
    assert broken[:10] in error and "the-build-broke-here" in error, error


@pytest.mark.fault("a release without the Dockerfile its compose file names")
def test_a_missing_dockerfile_is_refused_before_the_backup(stack, host, reports):
    zenops_built.git(host.app_dir, "rm", "--quiet", "--cached", "frontend/Dockerfile")
    zenops_built.commit(host.app_dir, "frontend without its Dockerfile", "v3-no-dockerfile", add_all=False)
    error = refused_before_the_backup(stack, host, reports, "v3-no-dockerfile")
    assert "Dockerfile" in error, error
