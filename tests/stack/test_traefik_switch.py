"""Traefik (the Docker provider, by labels) as the third proxy: a Zen Ops-shaped stack whose operator's
override puts Traefik in front, with a retry middleware and a healthcheck on the api, is discovered
(Traefik taken for the proxy, the api's upstream from its labels), adopted, and deployed under 20
requests a second: the api switches start-first behind Traefik and no request fails. Its Traefik also
stands for one that another compose project runs: discovery of an app with no proxy service, whose
labelled service joins that Traefik's network as an external one, names it for [services] proxy_container."""

import dataclasses
import shutil
from pathlib import Path

import httpx
import pytest

from procedures import ledger
from procedures.adopt import discover
from testkit import disposable, zenops
from testkit.ops_run import passed, run_check
from testkit.paced_users import PacedUsers
from testkit.seed_host import append_env

pytestmark = [pytest.mark.stack]
OVERRIDE = Path(__file__).resolve().parents[1] / "fixtures" / "proxies" / "traefik" / "zenops-traefik.yml"
TRAEFIK_IMAGE = "opsuite-local/traefik-standin:3.7"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The Zen Ops fixture behind Traefik, running plainly at 1.0.0."""
    host = zenops.create(tmp_path_factory.mktemp("traefik-host"))
    shutil.copy(OVERRIDE, host.app_dir / OVERRIDE.name)
    host = dataclasses.replace(host, file_names=(*host.file_names, OVERRIDE.name))
    append_env(host.app_dir / ".env", {"TRAEFIK_IMAGE": TRAEFIK_IMAGE, "TRAEFIK_PROJECT": host.project})
    try:
        zenops.start_plainly(host, "1.0.0")
        yield host
    finally:
        disposable.destroy_project(host.project, f"{host.project}_postgres_data")


# full-stack-fastapi-template's shape: Traefik labels on the app, the proxy's network joined as external.
OUTSIDE_APP = """services:
  web:
    image: opsuite-local/zenops-fixture-api:1.0.0
    expose: ["8000"]
    networks: [edge, default]
    labels:
      - traefik.enable=true
      - traefik.http.routers.web.rule=Host(`web.localhost`)
    healthcheck:
      test: ["CMD", "python3", "-c", "import urllib.request as u; u.urlopen('http://localhost:8000/readyz')"]
  db:
    image: opsuite-local/postgres-standin:15
    volumes: [data:/var/lib/postgresql/data]
volumes:
  data:
networks:
  edge:
    external: true
    name: {network}
"""


def test_discovery_names_a_traefik_another_project_runs_and_proposes_its_patch(host, tmp_path):
    app = tmp_path / "web-app"
    app.mkdir()
    (app / "docker-compose.yml").write_text(OUTSIDE_APP.replace("{network}", f"{host.project}_default"))
    run = discover.discover([str(app / "docker-compose.yml")], project=f"{host.project}-web",
                            proposal_path=tmp_path / "proposal.toml")
    traefik = f"{host.project}-reverse-proxy-1"
    assert run.roles.proxy is None and run.outside_proxy is not None, run.running
    assert (run.outside_proxy.container, run.outside_proxy.project) == (traefik, host.project)
    assert f'proxy_container = "{traefik}"' in run.proposal
    risk = next(r for r in run.risks if r.what.startswith("the proxy (traefik) would fail requests"))
    assert "no `retry` middleware on its router(s) web" in risk.what
    assert "`traefik.http.services.web.loadbalancer.healthcheck.path=/readyz`" in risk.fix, risk.fix


def served_build(host) -> str:
    return httpx.get(f"{host.base_url}/version").json()["build"]


@pytest.mark.fault("a deploy behind Traefik under 20 requests/s")
def test_a_deploy_behind_traefik_switches_start_first_and_fails_no_request(host, tmp_path):
    reports = tmp_path / "reports"
    stack = zenops.adopted(host, reports)
    discovered = next(reports.glob("discover-*.html")).read_text()
    assert "would fail requests while a deploy switches api" not in discovered
    assert stack.ctx.config.services.proxy == "reverse-proxy"
    with PacedUsers(f"{host.base_url}/api/notes", users=4, rate=20, max_seconds=600) as load:
        done, _ = run_check(stack, reports, "deploy", "--tag=1.1.0")
    passed(done)
    summary = load.summary()
    failures = [(round(s.due, 2), s.status) for s in load.samples if not s.ok]
    # DEPLOYMENT_RUNBOOK section 9, known limit: Traefik does not retry a request already written to a
    # kept-alive connection the old container closes as it stops. One such 502 was seen in a quiet CI run
    # (2026-12-06, 1 of ~960); more than one, or any other failure, is a regression of the switch.
    assert summary["failed"] <= 1 and all(status == 502 for _, status in failures), (summary, failures)
    entry = ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]
    api = next(s for s in entry["switch"]["services"] if s["service"] == "api")
    assert (api["how"], api["result"]) == ("start-first", "switched"), api
    assert "traefik" in api["why"] and served_build(host) == "1.1.0"
