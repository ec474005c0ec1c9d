"""The mariadb engine against real containers: a small stack (tests/fixtures/stacks/mariadb-engine) on
the MariaDB stand-in (Debian's mariadb-server 10.11 with the official image's contract) and the suite's
backup service on opsuite-local/mariadb-backup:10.11, its app writing an order and its line in one
transaction every 50 ms. Install, a backup while it writes (counts from the dump's own stream), a
quiesced backup equal to the live counts, and a drill of awkward data that leaves nothing behind. The
rehearsal and the disaster restore with its switch back are the engine contract's, run on the mariashop
cycle (tests/stack/test_mariashop_cycle.py).
"""

import secrets

import docker
import httpx
import pytest

from procedures.backup import pipeline
from procedures.context import OpsContext, prepared_context
from procedures.load import load_config
from procedures.sets import names as backup_names
from procedures.stack import services
from procedures.stack.serving import with_serving_tag
from testkit.backup_helpers import local_files, manifest_of
from testkit.engine_contract import throwaways_left
from testkit.disposable import DisposableStack, destroy_project
from testkit.ops_run import passed, run_check
from testkit.seed_host import STACKS, append_env, copy_fixture

pytestmark = [pytest.mark.stack, pytest.mark.destructive]
STANDIN = "opsuite-local/mariadb-standin:10.11"
BACKUP_IMAGE = "opsuite-local/mariadb-backup:10.11"
APP_IMAGE = "opsuite-local/mariadb-engine-app"  # the backup image (python3 and mariadb), tagged per release
SEEDED = {"catalog": 10000, "awkward": 8, "empty_table": 0, "alembic_version": 1}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("mariadb-reports")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, reports):
    """The fixture installed at 1.0.0 by the install runbook (its migrate seeds the data), app writing."""
    for release in ("1.0.0", "1.1.0"):
        docker.from_env().images.get(BACKUP_IMAGE).tag(APP_IMAGE, release)
    host = copy_fixture("mariadb-engine", tmp_path_factory.mktemp("mariadb-host"), "mdb", ("docker-compose.yml",),
                        ignore=("ops.toml.template",))
    password = secrets.token_urlsafe(18)
    append_env(host.app_dir / ".env", {"MARIADB_IMAGE": STANDIN, "APP_IMAGE": APP_IMAGE, "APP_PORT": str(host.port),
                                       "DB_PASSWORD": password, "DB_ROOT_PASSWORD": secrets.token_urlsafe(18)})
    config_path = host.app_dir / "ops.toml"
    template = (STACKS / "mariadb-engine" / "ops.toml.template").read_text()
    config_path.write_text(template.replace("{project}", host.project).replace("{app_dir}", str(host.app_dir))
                           .replace("{port}", str(host.port)))
    stack = DisposableStack(prepared_context(load_config(config_path), "1.0.0"), config_path, password)
    try:
        passed(run_check(stack, reports, "install", "--tag=1.0.0")[0])
        yield stack
    finally:
        destroy_project(host.project, stack.ctx.config.volumes.database)


def live(stack) -> OpsContext:
    """The stack as configured now (a disaster restore rewrites the config's database volume), at the
    release it serves."""
    return with_serving_tag(prepared_context(load_config(stack.config_path)))


def newest_manifest(ctx) -> dict:
    return manifest_of(ctx, max(backup_names.group_files(local_files(ctx))))


def orders(stack) -> int:
    return httpx.get(f"{stack.ctx.config.http.base_url}/counts", timeout=10).json()["orders"]


def awkward_texts(ctx) -> list[str]:
    return ctx.database.query("SELECT text_value FROM awkward ORDER BY id").splitlines()


def test_install_migrates_a_new_mariadb_database(stack):
    ctx = live(stack)
    counts = ctx.engine.row_counts(ctx.database)
    assert {t: counts[t] for t in SEEDED} == SEEDED, counts
    assert ctx.engine.schema_revision(ctx.database) == "0001_init"
    assert ctx.engine.server_version(ctx.database).startswith("10.11.")
    assert ctx.engine.user_table_count(ctx.database) == 6
    assert ctx.engine.data_identity(ctx.database).startswith("shop@2")


def test_the_data_identity_survives_a_restart_of_the_server(stack):
    """The creation time of the oldest table is the same after the db service restarts (the image chowns
    nothing mysql owns, so no table file's ctime moves)."""
    ctx = live(stack)
    before = ctx.engine.data_identity(ctx.database)
    ctx.compose.stop(["db"])
    ctx.compose.up(["db"])
    services.wait_healthy(ctx.compose, ["db"])
    assert ctx.engine.data_identity(ctx.database) == before


def test_backup_while_the_app_writes_counts_rows_in_the_dumps_own_stream(stack, reports):
    """Every order is written with its line in one transaction: the dump's counts hold as many of each,
    however many the app added while it was taken."""
    ctx = live(stack)
    before = orders(stack)
    done, report = run_check(stack, reports, "backup")
    passed(done)
    manifest = newest_manifest(ctx)
    counts = manifest["row_counts"]
    assert (manifest["engine"], manifest["database"], manifest["alembic_revision"]) == ("mariadb", "shop", "0001_init")
    assert counts["orders"] == counts["order_lines"] >= before > 0, counts
    assert {t: counts[t] for t in SEEDED} == SEEDED, counts
    assert orders(stack) > counts["orders"], "the app kept writing"
    assert stack.password not in report.read_text(), "the password is in no report"


def test_a_quiesced_backup_holds_exactly_the_live_rows(stack):
    """With the writer stopped, the manifest's counts (read from the dump stream) are the live counts."""
    ctx = live(stack)
    ctx.compose.stop(["app"])
    try:
        pipeline.backup(ctx)
        assert newest_manifest(ctx)["row_counts"] == ctx.engine.row_counts(ctx.database)
    finally:
        ctx.compose.up(["app"])
        services.wait_healthy(ctx.compose, ["app"])


def test_restore_drill_restores_the_newest_set_and_leaves_nothing(stack, reports):
    """The drill's networkless server of the stack's db image restores the set; its counts, revision and
    sample queries match the manifest (the drill refuses otherwise); its container and volume are gone."""
    done, report = run_check(stack, reports, "restore_drill")
    passed(done)
    record = report.read_text()
    assert "awkward" in record and "catalog" in record
    assert throwaways_left(stack.project) == []
