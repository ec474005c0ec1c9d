"""An app that publishes its own port, with no proxy (healthchecks' shape): discovery proposes a Caddy in
front as one compose file; the operator adds it and runs `docker compose up -d` once; discovered again, the
stack is adopted with that Caddy as its proxy, and a deploy under 20 requests a second switches the api
start-first with no failed request."""

import dataclasses
import shutil
from pathlib import Path

import pytest

from procedures import ledger
from procedures.adopt import proxy_front
from testkit import disposable, zenops
from testkit.ops_run import passed, run_check
from testkit.paced_users import PacedUsers

pytestmark = [pytest.mark.stack]
NO_PROXY = Path(__file__).resolve().parents[1] / "fixtures" / "proxies" / "none" / "zenops-no-proxy.yml"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The Zen Ops fixture with its api on its own published port, running plainly at 1.0.0."""
    host = zenops.create(tmp_path_factory.mktemp("no-proxy-host"))
    shutil.copy(NO_PROXY, host.app_dir / NO_PROXY.name)
    host = dataclasses.replace(host, file_names=(*host.file_names, NO_PROXY.name))
    try:
        zenops.start_plainly(host, "1.0.0")
        yield host
    finally:
        disposable.destroy_project(host.project, f"{host.project}_postgres_data")


@pytest.mark.fault("a deploy of an app with no proxy, after the proxy discovery proposes is put in front")
def test_the_proposed_proxy_lets_a_deploy_switch_with_no_failed_request(host, tmp_path):
    first = tmp_path / "first"
    done, report = run_check(None, first, "discover", *(f"--compose-file={f}" for f in host.files),
                             f"--project={host.project}")
    passed(done)
    proposed = report.with_name(report.stem + "." + proxy_front.FILE_NAME)
    assert "no reverse proxy in front of api" in report.read_text() and proposed.is_file(), sorted(first.iterdir())
    # As the operator does on this machine, which pulls no image: the stand-in for the pinned Caddy.
    front = proposed.read_text().replace(f"image: {proxy_front.CADDY_IMAGE}", f"image: {zenops.STANDIN_IMAGES['CADDY_IMAGE']}")
    (host.app_dir / proxy_front.FILE_NAME).write_text(front)
    host = dataclasses.replace(host, file_names=(*host.file_names, proxy_front.FILE_NAME))
    host.compose("up", "--detach", "--wait", tag="1.0.0", timeout=400)

    reports = tmp_path / "reports"
    stack = zenops.adopted(host, reports)
    discovered = next(reports.glob("discover-*.html")).read_text()
    assert "no reverse proxy in front" not in discovered and "would fail requests" not in discovered
    assert stack.ctx.config.services.proxy == proxy_front.SERVICE
    with PacedUsers(f"{host.base_url}/api/notes", users=4, rate=20, max_seconds=600) as load:
        done, _ = run_check(stack, reports, "deploy", "--tag=1.1.0")
    passed(done)
    summary = load.summary()
    failures = [(round(s.due, 2), s.status) for s in load.samples if not s.ok]
    assert summary["failed"] == 0 and summary["requests"] > 20, (summary, failures)
    entry = ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]
    api = next(s for s in entry["switch"]["services"] if s["service"] == "api")
    assert (api["how"], api["result"]) == ("start-first", "switched"), api
