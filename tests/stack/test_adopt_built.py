"""Adopting a stack built on the server while it runs (issue 25, items 2 and 8): the real Zen Ops' shape,
started as its operator does (`git checkout v1 && docker compose up -d --build`), so its images are compose's
own `<project>-<service>:latest`. The take-over names each built image by the serving TAG, builds nothing,
and the stack goes on serving the same images; both public apps of ADOPTING section 8 needed a hand
`docker tag` for this before."""

import httpx
import pytest

from procedures import docker_api, ledger, runner
from procedures.commands import docker as docker_cmd
from testkit import disposable, zenops_built
from testkit.ops_run import passed, run_check

pytestmark = [pytest.mark.stack]
RUNNING = ("api", "email-worker", "frontend")  # migrate ran and exited; watchdog is only in a profile


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    host = zenops_built.create(tmp_path_factory.mktemp("zenops-built-plain"))
    zenops_built.git(host.app_dir, "checkout", "--quiet", "v1")
    try:
        host.compose("up", "--detach", "--wait", "--build", timeout=600)
        yield host
    finally:
        disposable.destroy_project(host.project, f"{host.project}_postgres_data")
        for service in (*RUNNING, "migrate"):
            for tag in ("v1", "latest"):
                runner.run(docker_cmd.image_remove(f"{host.project}-{service}:{tag}"), limit="command", check=False)


def image_id(ref: str) -> str:
    found = docker_api.image(ref)
    return found["Id"] if found else ""


def running_image(host, service: str) -> str:
    containers = runner.run(docker_cmd.service_containers(host.project, service), limit="command").stdout.split()
    return "\n".join(docker_api.container_image_ids(containers))


def test_a_running_stack_built_on_the_server_is_adopted_on_the_images_it_runs(host, tmp_path):
    serving = {service: running_image(host, service) for service in RUNNING}
    assert all(serving.values()) and not image_id(f"{host.project}-api:v1"), "compose named nothing by release"
    (tmp_path / "ops").mkdir()
    stack = zenops_built.config(host, tmp_path / "ops")
    done, report = run_check(stack, tmp_path, "adopt", "--tag=v1", env={"CONFIRM": "YES"})
    passed(done)
    for service in RUNNING:
        assert image_id(f"{host.project}-{service}:v1") == serving[service], f"{service}: the image it ran, not a build"
        assert running_image(host, service) == serving[service], f"{service} serves the same image"
    assert image_id(f"{host.project}-migrate:v1") == image_id(f"{host.project}-migrate:latest") != "", "the one-off's"
    assert httpx.get(f"{host.base_url}/version").json()["build"] == "1.0.0"
    entry = ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]
    assert (entry["action"], entry["tag"], entry["outcome"]) == ("adopt", "v1", "deployed")
    page = report.read_text()
    assert f"{host.project}-api:v1" in page and "the image its container runs" in page, "the evidence names each image"
