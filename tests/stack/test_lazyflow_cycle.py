"""A LazyFlow-shaped stack (seed 003) whose database is a SQLite file in WAL mode on the app's own
volume is discovered, adopted with the config discovery proposes (edited only at its guesses) and
taken through the whole cycle by the operator's commands: adopt, health, backup, drill, deploy,
rollback, and a disaster restore into new volumes and back, while the app writes continuously (a
task and its event in one transaction, every 50 ms).

Its real Bun app, its migrations (`bun run migrate`, schema_migrations), nginx in front, /health
carrying the version and the volumes lazyflow_data and lazyflow_uploads are all the app's; nothing
here is the example stack's.
"""

import re
import time
import tomllib
from dataclasses import replace

import docker
import httpx
import pytest

from procedures import ledger
from procedures.backup import pipeline as backup
from procedures.config import SmokeCheck
from procedures.context import prepared_context
from procedures.errors import BackupError, NotReady, SwitchError
from procedures.restore import volume_switch
from procedures.sets import names as backup_names
from procedures.stack import readiness, volumes
from procedures.stack.serving import with_serving_tag
from testkit import proposals, lazyflow
from testkit.engine_contract import EngineContract
from testkit.backup_helpers import check_a_full_disk_loses_nothing, local_files, manifest_of, with_config
from testkit.copies import CopyCounter, assert_one_copy_throughout
from testkit.ops_run import passed, run_check

pytestmark = [pytest.mark.stack]
SENTINEL = "folder written before adoption"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The LazyFlow stack running plainly at 1.0.0, writing continuously, a sentinel folder in it."""
    host = lazyflow.create(tmp_path_factory.mktemp("lazyflow-host"))
    try:
        lazyflow.start_plainly(host, "1.0.0")
        assert httpx.post(f"{host.base_url}/folders", json={"name": SENTINEL}).status_code == 201
        yield host
    finally:
        lazyflow.destroy(host)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("lazyflow-reports")


@pytest.fixture(scope="module")
def stack(host, reports):
    """Discovery's proposal, settled at its guesses, as the ops config of the checks below."""
    return proposals.adopted_stack(host, reports, lazyflow.settle_proposal, "1.0.0")


def folders(host) -> list[str]:
    return [f["name"] for f in httpx.get(f"{host.base_url}/folders").json()["folders"]]


def health(host) -> dict:
    return httpx.get(f"{host.base_url}/health").json()


def newest_manifest(stack) -> dict:
    ctx = with_serving_tag(stack.ctx)
    return manifest_of(ctx, max(backup_names.group_files(local_files(ctx))))


def test_discovery_proposes_a_sqlite_file_on_the_apps_volume(stack, host):
    config = stack.ctx.config
    assert (config.database.engine, config.services.database) == ("sqlite", "")
    assert config.services.single_instance == ("app",), "the app holds the file: proposed (and kept) one copy only"
    assert (config.database.file, config.volumes.database) == ("/app/data/lazyflow.db", f"{host.project}_lazyflow_data")
    assert config.http.base_url == host.base_url


def test_adopt_keeps_the_file_in_place(stack, host, reports):
    before = volumes.require_database_volume(f"{host.project}_lazyflow_data")
    passed(run_check(stack, reports, "adopt", "--tag=1.0.0", env={"CONFIRM": "YES"})[0])
    after = volumes.require_database_volume(f"{host.project}_lazyflow_data")
    assert (after.name, after.mountpoint) == (before.name, before.mountpoint)
    assert SENTINEL in folders(host) and health(host)["version"] == "1.0.0"
    model = prepared_context(stack.ctx.config, "1.0.0").compose.rendered()
    assert model["volumes"]["lazyflow_data"]["external"] is True


def test_stack_health(stack, reports):
    passed(run_check(stack, reports, "stack_health")[0])


def test_an_authenticated_smoke_check_and_a_version_field_the_app_leaves_unset(stack, monkeypatch):
    """Seed 003: the authenticated /me answers, with the header's value from the environment (in no
    result), and /me without it is denied; a version field the app's answer lacks falls back to the
    running images' tag and says so (issue 25 item 7)."""
    token = "Bearer fixture-smoke-token-5f0c2a"
    monkeypatch.setenv("LAZYFLOW_SMOKE_AUTHORIZATION", token)
    me = SmokeCheck("/me", headers=(("Authorization", "LAZYFLOW_SMOKE_AUTHORIZATION"),),
                    json_fields=(("name", "fixture-user"), ("id", 1)))
    denied = SmokeCheck("/me", statuses=(401, 403), json_fields=(("error", "authorization required"),))
    config = stack.ctx.config
    config = replace(config, deploy=replace(config.deploy, smoke=(me, denied)),
                     http=replace(config.http, version_field="build"))
    rows = readiness.smoke(prepared_context(config, "1.0.0"))
    assert [(r["status"], r["json"], r["ok"]) for r in rows] == [(200, "as expected", True), (401, "as expected", True)]
    assert "smoke-token" not in str(rows) and rows[0]["headers"] == ["Authorization"]
    wrong = replace(me, json_fields=(("name", "someone-else"),))
    with pytest.raises(NotReady, match='name is "fixture-user", expected "someone-else"') as failed:
        readiness.smoke(prepared_context(replace(config, deploy=replace(config.deploy, smoke=(wrong,))), "1.0.0"))
    assert "smoke-token" not in str(failed.value)
    found = readiness.check_version(prepared_context(config, "1.0.0"))
    assert found["version"] == "1.0.0" and found["fallback"]
    assert "field 'build' is absent (the app does not say its release): the running app containers' image tag" \
        in found["source"]


def test_backup_while_the_app_writes_is_one_point_in_time(stack, host, reports):
    """Every task is written with its event in one transaction: a copy of one point in time holds as
    many of each, however many the app added while it was taken."""
    done, report = run_check(stack, reports, "backup")
    passed(done)
    manifest = newest_manifest(stack)
    counts = manifest["row_counts"]
    assert (manifest["engine"], manifest["database"]) == ("sqlite", "lazyflow")
    assert counts["tasks"] == counts["events"] > 0, counts
    assert manifest["alembic_revision"] == "0001_init"
    assert httpx.get(f"{host.base_url}/tasks").json()["count"] > counts["tasks"], "the app kept writing"
    assert "lazyflow.db-wal" not in report.read_text(), "the live -wal file is never copied"


def assert_switched_stop_first_for_the_file(entry: dict, report) -> None:
    """The app holds the SQLite file: the plan (recorded and in the report) says stop-first, and why."""
    __tracebackhide__ = True
    app = next(s for s in entry["switch"]["services"] if s["service"] == "app")
    assert app["how"] == "stop-first", app
    assert app["why"].startswith("holds the SQLite database /app/data/lazyflow.db (volume lazyflow_data): one copy only")
    assert "holds the SQLite database /app/data/lazyflow.db" in report.read_text()


@pytest.mark.fault("a second copy of the app holding the SQLite file, through a deploy")
def test_deploy_backs_up_then_migrates_with_the_apps_command(stack, host, reports):
    """... and never runs two copies of the app (seed 003: "only one copy"): a sampler counts the live
    project's running app containers through the whole deploy."""
    with CopyCounter(host.project, "app") as copies:
        done, report = run_check(stack, reports, "deploy", "--tag=1.1.0")
    passed(done)
    print("app containers through the deploy:", copies.summary())
    assert health(host)["version"] == "1.1.0" and SENTINEL in folders(host)
    entry = ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]
    assert_one_copy_throughout(copies, entry["switch"])
    assert_switched_stop_first_for_the_file(entry, report)
    assert (entry["tag"], entry["outcome"], entry["revision_after"]) == ("1.1.0", "deployed", "0002_task_priority")
    # The rehearsal on a copy of the backup started 1.0.0 on the migrated schema: it serves, so the
    # rollback below needs no restore.
    assert entry["rollback_check"]["rollback"] == "safe", entry["rollback_check"]


@pytest.mark.fault("a second copy of the app holding the SQLite file, through a rollback")
def test_rollback_to_the_adopted_release(stack, host, reports):
    with CopyCounter(host.project, "app") as copies:
        done, report = run_check(stack, reports, "rollback")
    passed(done)
    print("app containers through the rollback:", copies.summary())
    assert health(host)["version"] == "1.0.0" and SENTINEL in folders(host)
    entry = ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]
    assert_one_copy_throughout(copies, entry["switch"])
    assert_switched_stop_first_for_the_file(entry, report)


@pytest.mark.fault("SQLite file missing (wrong [database] file)")
def test_a_missing_database_file_fails_loudly_and_keeps_every_backup(stack):
    ctx = with_serving_tag(stack.ctx)
    before = local_files(ctx)
    with pytest.raises(BackupError, match="does not exist") as failed:
        backup.backup(with_config(ctx, database={"file": "/app/data/absent.db"}))
    assert "nothing was written" in str(failed.value)
    assert local_files(ctx) == before


def tasks(host) -> int:
    return httpx.get(f"{host.base_url}/tasks").json()["count"]


class TestEngineContract(EngineContract):
    """SQLite in a volume: the drill, the deploy's rehearsal, and a disaster restore that puts the set's
    copy into a NEW volume at the file's place (the uploads into another) and recreates the app on both,
    then the switch back (testkit/engine_contract.py)."""

    def write(self, host, text):
        assert httpx.post(f"{host.base_url}/folders", json={"name": text}).status_code == 201

    def written(self, host):
        return folders(host)

    def after_disaster(self, stack, host, report):
        """The app writes into the restored file as its own user (uid 10001: owner and -wal in the new volume)."""
        switched = tomllib.loads(stack.config_path.read_text())["volumes"]
        assert re.fullmatch(r"[\w.-]+_restored_\d{8}T\d{6}Z", switched["database"]), switched
        assert volumes.mounted_database_volume(prepared_context(stack.ctx.config, "1.0.0")) == switched["database"]
        assert SENTINEL in folders(host)
        written = tasks(host)
        time.sleep(1)
        assert tasks(host) > written, "the app writes into the restored file"
        assert "--uploads-volume=" in report.read_text(), "the uploads switch back with the database"

    def after_switch_back(self, stack, host, report):
        switched = tomllib.loads(stack.config_path.read_text())["volumes"]["database"]
        assert "_restored_" not in switched, switched


@pytest.mark.fault("disk fills during the backup (SQLite)")
def test_a_disk_that_fills_during_the_backup_leaves_no_final_name_and_keeps_every_set(stack):
    """A real ENOSPC while the copy is written: the backup fails loudly, no file takes a final name,
    and every earlier set is still there, whole."""
    check_a_full_disk_loses_nothing(with_serving_tag(stack.ctx), 4096, "disk is full|No space left")


@pytest.mark.fault("switch to a volume whose SQLite file the app cannot serve from")
def test_a_switch_the_app_cannot_serve_from_recreates_it_on_the_old_volume(stack, host, monkeypatch):
    """A volume of this stack holding a file that is no database: the app is recreated on it, never
    becomes healthy, and is recreated on the old volume; the config and env file are put back."""
    monkeypatch.setenv("CONFIRM", "YES")
    ctx = with_config(with_serving_tag(stack.ctx), http={"ready_timeout_seconds": 40})
    old, project = volumes.mounted_database_volume(ctx), ctx.config.stack.project
    broken = f"{project}_lazyflow_data_broken"
    volumes.create_database_volume(broken, project)
    docker.from_env().containers.run(ctx.config.backup.image, ["sh", "-c", "echo 'not a database' > /v/lazyflow.db"],
                                     remove=True, network_mode="none", volumes={broken: {"bind": "/v", "mode": "rw"}})
    files = [path for path in (stack.config_path, ctx.config.stack.env_file) if path]
    before = [path.read_text() for path in files]
    with pytest.raises(SwitchError, match="going back to"):
        volume_switch.switch_database_volume(ctx, broken, "test: a file the app cannot serve from")
    assert volumes.mounted_database_volume(ctx) == old
    assert [path.read_text() for path in files] == before, "the config (and env file) put back"
    assert SENTINEL in folders(host)
