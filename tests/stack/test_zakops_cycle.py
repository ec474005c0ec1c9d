"""A ZakOps-shaped stack (seed 002) whose Postgres is outside the stack, reached only by the app's
DATABASE_URL, is discovered, adopted with the config discovery proposes (edited only at its
guesses) and taken through the whole cycle by the operator's commands: adopt, health, backup,
drill, deploy, rollback, and a disaster restore into a new database on the server.

Its backend and outbox worker, its plain SQL migrations (`python -m src.core.database.migrations`,
recorded in zakops.schema_migrations, no Alembic), its /health, /api/health/ready and /api/version,
and a managed server in a compose project of its own are all the app's; nothing here is the
example stack's. The server is never started, stopped or written by the suite.
"""

import re

import httpx
import pytest

from procedures import ledger, runner
from procedures.backup import pipeline as backup
from procedures.errors import BackupError, ConfigError, OpsError
from procedures.restore import url_switch
from procedures.sets import names as backup_names
from procedures.stack import readiness
from procedures.stack.serving import with_serving_tag
from testkit import proposals, zakops
from testkit.engine_contract import EngineContract
from testkit.backup_helpers import check_a_full_disk_loses_nothing, local_files, manifest_of, with_config
from testkit.ops_run import passed, run_check

pytestmark = [pytest.mark.stack]
SENTINEL = "deal written before adoption"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The ZakOps stack running plainly at 1.0.0 against its managed server, a sentinel deal in it."""
    host = zakops.create(tmp_path_factory.mktemp("zakops-host"))
    try:
        zakops.start_plainly(host, "1.0.0")
        assert httpx.post(f"{host.base_url}/api/deals", json={"name": SENTINEL}).status_code in (200, 201)
        yield host
    finally:
        zakops.destroy(host)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("zakops-reports")


@pytest.fixture(scope="module")
def stack(host, reports):
    """Discovery's proposal, settled at its guesses, as the ops config of the checks below."""
    return proposals.adopted_stack(host, reports, zakops.settle_proposal, "1.0.0", password=host.db_password)


def deals(host) -> list[str]:
    return [d["name"] for d in httpx.get(f"{host.base_url}/api/deals").json()]


def served_build(host) -> str:
    return httpx.get(f"{host.base_url}/api/version").json()["build"]


def newest_set(stack) -> str:
    return max(backup_names.group_files(local_files(with_serving_tag(stack.ctx))))


def server_state(host) -> str:
    """The managed server's container id and start time: the suite never recreates or restarts it."""
    container = host.managed_db("ps", "--quiet", "postgres").stdout.strip()
    return runner.run(["docker", "inspect", "--format", "{{.Id}} {{.State.StartedAt}}", container], limit="command").stdout


def test_discovery_proposes_a_database_reached_by_url(stack, host):
    config = stack.ctx.config
    assert (config.database.engine, config.services.database, config.volumes.database) == ("postgres-url", "", "")
    assert (config.services.app, config.services.single_instance) == (("backend", "outbox-processor"),
                                                                     ("outbox-processor",))
    assert config.http.base_url == host.base_url


def test_adopt_backs_up_first_and_keeps_the_server_untouched(stack, host, reports):
    before = server_state(host)
    done, report = run_check(stack, reports, "adopt", "--tag=1.0.0", env={"CONFIRM": "YES"})
    passed(done)
    assert server_state(host) == before, "the managed server is neither recreated nor restarted"
    assert SENTINEL in deals(host) and served_build(host) == "1.0.0"
    page = report.read_text()
    assert "postgres.zakops.example.test" in page and host.db_password not in page


def test_stack_health(stack, reports):
    done, report = run_check(stack, reports, "stack_health")
    passed(done)
    assert "the database is outside the stack" in report.read_text(), "volume checks say why they do not apply"


def test_backup_dumps_the_managed_database(stack, host, reports):
    done, report = run_check(stack, reports, "backup")
    passed(done)
    ctx = with_serving_tag(stack.ctx)
    newest = max(backup_names.group_files(local_files(ctx)))
    manifest = manifest_of(ctx, newest)
    assert (manifest["engine"], manifest["database"]) == ("postgres-url", "zakops")
    assert manifest["row_counts"]["zakops.deals"] >= 1
    assert manifest["alembic_revision"] == "001_deals_outbox", "the configured revision query, not Alembic's"
    assert host.db_password not in report.read_text()


def test_deploy_backs_up_then_migrates_with_the_configured_command(stack, host, reports):
    done, _ = run_check(stack, reports, "deploy", "--tag=1.1.0")
    passed(done)
    assert served_build(host) == "1.1.0" and SENTINEL in deals(host)
    entry = ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]
    assert (entry["tag"], entry["outcome"], entry["revision_after"]) == ("1.1.0", "deployed", "002_deal_stage")
    # The rehearsal on a copy of the backup started 1.0.0 on the migrated schema: it serves, so the
    # rollback below needs no restore.
    assert entry["rollback_check"]["rollback"] == "safe", entry["rollback_check"]


def test_rollback_to_the_adopted_release(stack, host, reports):
    passed(run_check(stack, reports, "rollback")[0])
    assert served_build(host) == "1.0.0" and SENTINEL in deals(host)


class TestEngineContract(EngineContract):
    """Postgres by URL: the drill, the deploy's rehearsal and a disaster restore into a NEW database on
    the same server, the app's URL switched to it and back (testkit/engine_contract.py)."""

    def write(self, host, text):
        assert httpx.post(f"{host.base_url}/api/deals", json={"name": text}).status_code == 201

    def written(self, host):
        return deals(host)

    def after_disaster(self, stack, host, report):
        env = (host.app_dir / ".env").read_text()
        assert re.search(r"^DATABASE_URL=.*/(zakops_restored_\d{8}T\d{6}Z)\?sslmode=prefer$", env, re.M), env
        assert "old database, kept" in report.read_text() and host.db_password not in report.read_text()
        assert SENTINEL in deals(host)

    def after_switch_back(self, stack, host, report):
        assert manifest_of(with_serving_tag(stack.ctx), newest_set(stack))["database"] == "zakops", \
            "the backups of the restored database continued the series"
        assert f"DATABASE_URL={host.url()}" in (host.app_dir / ".env").read_text()


def test_a_switch_to_a_database_that_does_not_exist_is_refused_and_changes_nothing(stack, host, reports):
    env = host.app_dir / ".env"
    before = env.read_text()
    done, _ = run_check(stack, reports, "switch_database_url", "--database=zakops_nowhere", env={"CONFIRM": "YES"})
    assert done.returncode != 0 and "database 'zakops_nowhere' does not exist on" in done.stdout, done.stdout[-2000:]
    assert env.read_text() == before and SENTINEL in deals(host)


@pytest.mark.fault("URL switched to a database the app cannot serve from (database outside the stack)")
def test_a_switch_the_app_cannot_serve_from_puts_the_url_back_and_serves_the_old_database(stack, host, monkeypatch):
    """The server's empty `postgres` database: the app starts but is never ready there. The env file is
    put back as it was, with no copy left, and the app serves the old database again."""
    monkeypatch.setenv("CONFIRM", "YES")
    ctx = with_config(with_serving_tag(stack.ctx), http={"ready_timeout_seconds": 45})
    env = host.app_dir / ".env"
    before, copies = env.read_text(), set(host.app_dir.glob(".env.*"))
    with pytest.raises(OpsError):
        url_switch.switch_database_url(ctx, "postgres", "test: a database the app cannot serve from")
    assert env.read_text() == before and set(host.app_dir.glob(".env.*")) == copies, "put back, no copy left"
    readiness.wait_until_ready(ctx.config.http, timeout=90)
    assert SENTINEL in deals(host)


def bad_urls(host) -> dict[str, tuple[str, str]]:
    """Each wrong DATABASE_URL, and what the refusal must say besides naming the variable."""
    good = host.url()
    return {
        "no password": (good.replace(f":{host.db_password}@", "@"), "has no password"),
        "unknown host": (good.replace("postgres.zakops.example.test", "nowhere.zakops.invalid"), "not reachable"),
        "refused connection": (good.replace(":5432/", ":5439/"), "not reachable"),
        "wrong sslmode": (good.replace("sslmode=prefer", "sslmode=require"), "not reachable"),
    }


@pytest.mark.parametrize("fault", [
    pytest.param(name, marks=pytest.mark.fault(f"DATABASE_URL with {name} (database outside the stack)"), id=name)
    for name in ("no password", "unknown host", "refused connection", "wrong sslmode")])
def test_a_bad_database_url_fails_naming_the_variable_and_writes_nothing(stack, host, fault):
    url, said = bad_urls(host)[fault]
    env = host.app_dir / ".env"
    saved = env.read_text()
    ctx = with_serving_tag(stack.ctx)
    before = local_files(ctx)
    env.write_text(saved.replace(f"DATABASE_URL={host.url()}", f"DATABASE_URL={url}"))
    try:
        with pytest.raises((BackupError, ConfigError)) as failed:
            backup.backup(ctx)
    finally:
        env.write_text(saved)
    message = str(failed.value)
    assert "DATABASE_URL" in message and said in message, message
    assert host.db_password not in message
    assert local_files(ctx) == before, "nothing is written, every earlier backup kept"


@pytest.mark.fault("disk fills during the backup (database outside the stack)")
def test_a_disk_that_fills_during_the_backup_leaves_no_final_name_and_keeps_every_set(stack):
    """A real ENOSPC while the dump is written: the backup fails loudly, no file takes a final name,
    and every earlier set is still there, whole."""
    check_a_full_disk_loses_nothing(with_serving_tag(stack.ctx), 0, "No space left|could not write|pg_dump")
