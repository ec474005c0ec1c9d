"""A deploy that recreates a service the proxy forwards to is expected to fail requests: the plan says
how long and the patch that avoids it, and the report's header lists it under "Issues found" although
the run passed (never "Issues found: None")."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ops_checks import summary as facts
from procedures.release import switch_plan
from procedures.stack.proxy_view import ProxyView, Upstream

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PATCH = "in /etc/caddy/Caddyfile, replace line 5 `reverse_proxy api:8000` with `reverse_proxy api:8000 {` ..."


def window(service: dict, upstream: Upstream | None, kind: str = "caddy") -> str:
    ctx = SimpleNamespace(config=SimpleNamespace(http=SimpleNamespace(ready_timeout_seconds=60.0),
                                                 services=SimpleNamespace(app=("api", "worker"))))
    view = ProxyView(kind, {"api": upstream} if upstream else {}, problem="" if kind else "nothing answered")
    return switch_plan._failure_window(ctx, "api", service, view, upstream)


def test_a_recreate_behind_the_proxy_names_its_failure_window_and_the_patch():
    text = window({"stop_grace_period": "1m30s"}, Upstream("api", 8000, "no retries ...", PATCH))
    assert "through the caddy proxy to api are expected to fail" in text
    assert "up to 90 s" in text and "up to 60 s" in text and text.endswith(f"apply: {PATCH}")
    assert "up to 10 s" in window({}, Upstream("api", 8000, "static", ""))
    assert window({}, None) == "", "a service no proxy forwards to costs the proxy's users nothing"
    assert "could not be read (nothing answered)" in window({}, None, kind=""), "an unreadable proxy is no all-clear"


def test_the_deploy_and_rollback_readers_carry_the_risks():
    switch = switch_plan.ServiceSwitch("api", switch_plan.RECREATE, "no retries", expected_failures="fail 10 s")
    calm = switch_plan.ServiceSwitch("worker", switch_plan.STOP_FIRST, "single instance")
    deploy = SimpleNamespace(tag="1.1.0", previous_tag="1.0.0", revision_before=None, revision_after=None,
                             backup=None, build=None, outcome="deployed", plan=([switch, calm], None))
    assert facts.deploy(deploy)["risks"] == ["api was recreated: fail 10 s"]
    app = SimpleNamespace(config=SimpleNamespace(services=SimpleNamespace(app=("api",))))
    rollback = SimpleNamespace(ctx=SimpleNamespace(tag="1.0.0", **vars(app)), from_tag="1.1.0", revision=None,
                               result={"switch": {"services": [switch.describe(), calm.describe()]}})
    assert facts.rollback(rollback)["risks"] == ["api was recreated: fail 10 s"]
    # an app service not switched start-first is a warning in the header too; the worker is no app service here
    assert facts.rollback(rollback)["warnings"] == [
        "api was recreated, not switched start-first (no retries): its requests fail from the old container's stop "
        "until the new one answers"]
    assert "expected_failures" not in calm.describe()


def test_a_start_first_switch_behind_traefik_without_its_probe_says_what_may_still_fail():
    advice = "no Traefik health check on its service shop ...; fix: in compose.yml, under services.api.labels add `x=y`"
    view = ProxyView("traefik", {"api": Upstream("api", 8000, "", "in compose.yml ...", advice)})
    text = switch_plan._start_first_window(view, view.upstreams["api"])
    assert text.startswith("requests through the traefik proxy to api may fail while its stopped old container")
    assert text.endswith(advice)
    assert switch_plan._start_first_window(view, Upstream("api", 8000)) == ""
    switch = switch_plan.ServiceSwitch("api", switch_plan.START_FIRST, "behind traefik", 8000, expected_failures=text)
    deploy = SimpleNamespace(tag="1.1.0", previous_tag="1.0.0", revision_before=None, revision_after=None,
                             backup=None, build=None, outcome="deployed", plan=([switch], view))
    assert facts.deploy(deploy)["risks"] == [f"api was switched start-first: {text}"]
    config = SimpleNamespace(services=SimpleNamespace(app=("api",)))
    rollback = SimpleNamespace(ctx=SimpleNamespace(tag="1.0.0", config=config), from_tag="1.1.0", revision=None,
                               result={"switch": {"services": [switch.describe()]}})
    assert facts.rollback(rollback)["risks"] == [f"api was switched start-first: {text}"]
    assert "warnings" not in facts.rollback(rollback), "start-first is no warning"


CHECK = '''
from procedures.runbook import Runbook, Step
from runbook_plugin.steps import runbook_step
import pytest

FAKE = Runbook("fake", (Step("switch", lambda run: "recreated"),))


@pytest.fixture(scope="module")
def run(runbook_summary):
    runbook_summary.read(lambda run: {"what": "Deploy of 1.1.0", "risks": ["api was recreated: requests fail"]}, 1)
    yield 1


@runbook_step(FAKE, "switch")
def test_switch(run, step):
    step(run)
'''


def test_a_passing_run_with_a_risk_lists_it_under_issues_found(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "deploy.py").write_text(CHECK)
    result = pytester.runpytest_subprocess("ops_checks/deploy.py", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    [report] = (pytester.path / "reports" / "deploy").glob("*.html")
    record = json.loads(report.with_suffix(".json").read_text())
    assert record["outcome"] == "passed" and record["issues_found"] == ["api was recreated: requests fail"]
    assert record["summary"]["actions_required"] == ["Warning: api was recreated: requests fail"]
    page = report.read_text()
    issues = page.split("data-fact='issues'", 1)[1].split("</tr>", 1)[0]
    assert "api was recreated: requests fail" in issues and ">None<" not in issues


def test_a_recreate_of_an_app_reached_at_its_own_published_port_names_its_failure_window():
    """No proxy (healthchecks' web publishes 8000): the users' requests reach the app's own port, so its
    recreate fails them too; the run passed saying "Issues found: None" while 16 of 1348 failed."""
    ctx = SimpleNamespace(config=SimpleNamespace(http=SimpleNamespace(ready_timeout_seconds=60.0),
                                                 services=SimpleNamespace(app=("web",), proxy="")))
    service = {"ports": [{"published": "18471", "target": 8000, "host_ip": "127.0.0.1"}]}
    text = switch_plan._failure_window(ctx, "web", service, None, None)
    assert "requests to web's published port 18471 are expected to fail" in text
    assert "up to 10 s" in text and "up to 60 s" in text and "reverse proxy" in text
    assert switch_plan._failure_window(ctx, "web", {}, None, None) == "", "no published port: no user reaches it"
