"""A Zen Ops-shaped stack (seeds 000, 001, 004) that runs under plain `docker compose up` is
discovered, adopted with the config discovery proposes (edited only at its guesses) and taken
through the whole cycle by the operator's commands: adopt, health, backup, drill, deploy, rollback.

Its own migrate, uploads-perms, backup and backup-cron services, Caddy on a loopback port, its
`postgres_data` volume, DATABASE_URL from .env.backend, /version's `build` and a 60 s worker
healthcheck are all the app's; nothing here is the example stack's.
"""

import httpx
import pytest

from procedures import ledger
from procedures.context import prepared_context
from procedures.stack import volumes
from testkit.engine_contract import EngineContract
from testkit import disposable, proposals, zenops
from testkit.ops_run import passed, run_check
from testkit.paced_users import PacedUsers

pytestmark = [pytest.mark.stack]
SENTINEL = "sentinel written before adoption"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The Zen Ops stack running plainly at 1.0.0, a sentinel note and an upload in it."""
    host = zenops.create(tmp_path_factory.mktemp("zenops-host"))
    try:
        zenops.start_plainly(host, "1.0.0")
        assert httpx.post(f"{host.base_url}/api/notes", json={"body": SENTINEL}).status_code == 201
        assert httpx.post(f"{host.base_url}/api/uploads", content=b"invoice scan").status_code == 201
        yield host
    finally:
        disposable.destroy_project(host.project, f"{host.project}_postgres_data")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("zenops-reports")


@pytest.fixture(scope="module")
def stack(host, reports):
    """Discovery's proposal, settled at its guesses, as the ops config of the checks below."""
    return proposals.adopted_stack(host, reports, zenops.settle_proposal, "1.0.0", password="fixture-password")


def notes(host) -> list[str]:
    return [n["body"] for n in httpx.get(f"{host.base_url}/api/notes").json()]


def served_build(host) -> str:
    return httpx.get(f"{host.base_url}/version").json()["build"]


def test_discovery_proposes_what_the_stack_is(stack, host, reports):
    discovered = next(reports.glob("discover-*.html")).read_text()
    assert "would fail requests while a deploy switches api" in discovered and "lb_try_duration 5s" in discovered
    config = stack.ctx.config
    assert (config.services.database, config.services.app, config.services.migrate) == (
        "db", ("api", "email-worker"), "migrate")
    assert config.volumes.database == f"{host.project}_postgres_data"
    assert config.http.base_url == host.base_url


def test_adopt_keeps_the_data_in_place(stack, host, reports):
    before = volumes.require_database_volume(f"{host.project}_postgres_data")
    passed(run_check(stack, reports, "adopt", "--tag=1.0.0", env={"CONFIRM": "YES"})[0])
    after = volumes.require_database_volume(f"{host.project}_postgres_data")
    assert (after.name, after.mountpoint) == (before.name, before.mountpoint)
    assert SENTINEL in notes(host) and served_build(host) == "1.0.0"
    model = prepared_context(stack.ctx.config, "1.0.0").compose.rendered()
    assert model["volumes"]["postgres_data"]["external"] is True


def test_stack_health(stack, reports):
    passed(run_check(stack, reports, "stack_health")[0])


def test_backup_covers_the_database_and_the_uploads(stack, reports):
    done, report = run_check(stack, reports, "backup")
    passed(done)
    text = report.read_text()
    assert ".uploads.list.json" in text and "uploads-store/" in text, "the uploads go to the store with the dump"
    assert "uploads store garbage collection" in text


def last_release(stack) -> dict:
    return ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]


def api_switch(entry: dict) -> dict:
    return next(s for s in entry["switch"]["services"] if s["service"] == "api")


@pytest.mark.fault("a proxy that cannot switch cleanly (Caddy without retries)")
def test_deploy_migrates_with_the_apps_own_migrate_service(stack, host, reports):
    done, report = run_check(stack, reports, "deploy", "--tag=1.1.0")
    passed(done)
    assert served_build(host) == "1.1.0" and SENTINEL in notes(host)
    page = report.read_text()
    assert "uploads-perms" in page, "the app's one-off dependency is run, and shown, before the switch"
    entry = last_release(stack)
    assert (entry["tag"], entry["outcome"]) == ("1.1.0", "deployed")
    # The app's Caddyfile has no lb_try_duration: the deploy said so up front, naming the setting,
    # and recreated the api as before.
    assert api_switch(entry)["how"] == "recreate" and "lb_try_duration" in api_switch(entry)["why"]
    assert entry["rollback_check"]["rollback"] == "safe", entry["rollback_check"]
    assert "lb_try_duration 5s" in page


def test_rollback_to_the_adopted_release(stack, host, reports):
    passed(run_check(stack, reports, "rollback")[0])
    assert served_build(host) == "1.0.0" and SENTINEL in notes(host)


def test_with_caddy_retrying_the_deploy_fails_no_request(stack, host, reports):
    """The operator's fix the deploy named: `lb_try_duration 5s` in the Caddyfile, Caddy reloaded."""
    zenops.let_caddy_retry(host)
    with PacedUsers(f"{host.base_url}/api/notes", users=4, rate=20, max_seconds=600) as load:
        done, _ = run_check(stack, reports, "deploy", "--tag=1.1.0")
    passed(done)
    assert load.summary()["failed"] == 0, load.summary()
    assert api_switch(last_release(stack))["result"] == "switched"
    assert served_build(host) == "1.1.0" and SENTINEL in notes(host)


def test_an_unloaded_rollback_behind_caddy_switches_start_first(stack, host, reports):
    """With no traffic Caddy keeps one connection to the old api and sends every request over it:
    the switch must not wait to see the new release through the proxy (it waited out the ready
    timeout and failed, before), and the rollback's own checks through Caddy prove it serves."""
    passed(run_check(stack, reports, "rollback")[0])
    switched = api_switch(last_release(stack))
    assert switched["result"] == "switched", switched
    assert "not asked through the proxy" in switched["proxy"], switched
    assert served_build(host) == "1.0.0" and SENTINEL in notes(host)


class TestEngineContract(EngineContract):
    """Postgres in the stack: the drill, the deploy's rehearsal, and a disaster restore into NEW database
    and uploads volumes with the db recreated on them, then the switch back (testkit/engine_contract.py)."""

    def write(self, host, text):
        assert httpx.post(f"{host.base_url}/api/notes", json={"body": text}).status_code == 201

    def written(self, host):
        return notes(host)

    def after_disaster(self, stack, host, report):
        assert SENTINEL in notes(host) and "--uploads-volume=" in report.read_text()
