"""A MariaShop stack (a small shop on MariaDB, shaped as self-hosted apps ship it: the official mariadb
image's MARIADB_* variables from .env, the data on db_data at /var/lib/mysql) that runs under plain
`docker compose up` is discovered, adopted with the config discovery proposes (edited only at its
guesses) and taken through the whole cycle by the operator's commands: adopt, health, backup, drill,
deploy with the rollback rehearsal, rollback, and a disaster restore into a new volume and back, while
the app writes continuously (an order and its event in one transaction, every 50 ms).

Its Python app, its Alembic migrations (`alembic upgrade head`, alembic_version), /readyz and /version
are all the app's; nothing here is the example stack's.
"""

import re
import time
import tomllib

import httpx
import pytest

from procedures import ledger
from procedures.context import prepared_context
from procedures.sets import names as backup_names
from procedures.stack import volumes
from procedures.stack.serving import with_serving_tag
from testkit import mariashop, proposals
from testkit.backup_helpers import local_files, manifest_of
from testkit.engine_contract import EngineContract
from testkit.ops_run import passed, run_check

pytestmark = [pytest.mark.stack]
SENTINEL = "order placed before adoption"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The MariaShop stack running plainly at 1.0.0, writing continuously, a sentinel order in it."""
    host = mariashop.create(tmp_path_factory.mktemp("mariashop-host"))
    try:
        mariashop.start_plainly(host, "1.0.0")
        assert httpx.post(f"{host.base_url}/orders", json={"item": SENTINEL}).status_code == 201
        yield host
    finally:
        mariashop.destroy(host)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("mariashop-reports")


@pytest.fixture(scope="module")
def stack(host, reports):
    """Discovery's proposal, settled at its guesses, as the ops config of the checks below."""
    return proposals.adopted_stack(host, reports, mariashop.settle_proposal, "1.0.0")


def version(host) -> str:
    return httpx.get(f"{host.base_url}/version").json()["version"]


def orders(host) -> int:
    return httpx.get(f"{host.base_url}/orders").json()["count"]


def placed(host, item: str) -> int:
    """How many orders of item the served database holds (read in the database service, as an operator)."""
    done = host.compose("exec", "-T", "db", "sh", "-c",
                        'mariadb -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" "$MARIADB_DATABASE" -N -e '
                        f"\"SELECT count(*) FROM orders WHERE item = '{item}'\"")
    return int(done.stdout.strip())


def sentinel_kept(host) -> bool:
    return placed(host, SENTINEL) == 1


def newest_manifest(stack) -> dict:
    ctx = with_serving_tag(stack.ctx)
    return manifest_of(ctx, max(backup_names.group_files(local_files(ctx))))


def test_discovery_proposes_mariadb_with_the_services_own_variables(stack, host):
    config = stack.ctx.config
    assert (config.database.engine, config.services.database, config.services.app) == ("mariadb", "db", ("app",))
    assert (config.database.user_variable, config.database.password_variable, config.database.name_variable) == (
        "MARIADB_USER", "MARIADB_PASSWORD", "MARIADB_DATABASE")
    assert config.volumes.database == f"{host.project}_db_data"
    assert config.database.revision_query == "SELECT group_concat(version_num SEPARATOR ',') FROM alembic_version"
    assert config.deploy.migrate_command == ("alembic", "upgrade", "head")
    assert config.http.base_url == host.base_url


def test_adopt_keeps_the_data_in_place(stack, host, reports):
    before = volumes.require_database_volume(f"{host.project}_db_data")
    passed(run_check(stack, reports, "adopt", "--tag=1.0.0", env={"CONFIRM": "YES"})[0])
    after = volumes.require_database_volume(f"{host.project}_db_data")
    assert (after.name, after.mountpoint) == (before.name, before.mountpoint)
    assert sentinel_kept(host) and version(host) == "1.0.0"
    model = prepared_context(stack.ctx.config, "1.0.0").compose.rendered()
    assert model["volumes"]["db_data"]["external"] is True


def test_stack_health(stack, reports):
    passed(run_check(stack, reports, "stack_health")[0])


def test_backup_while_the_app_writes_is_one_point_in_time(stack, host, reports):
    """Every order is written with its event in one transaction: a copy of one point in time holds as
    many of each, however many the app added while it was taken."""
    passed(run_check(stack, reports, "backup")[0])
    manifest = newest_manifest(stack)
    counts = manifest["row_counts"]
    assert (manifest["engine"], manifest["database"]) == ("mariadb", "shop")
    assert counts["orders"] == counts["order_events"] > 0, counts
    assert manifest["alembic_revision"] == "0001_init"
    assert orders(host) > counts["orders"], "the app kept writing"


def test_deploy_backs_up_then_migrates_with_alembic_and_rehearses_the_rollback(stack, host, reports):
    passed(run_check(stack, reports, "deploy", "--tag=1.1.0")[0])
    assert version(host) == "1.1.0" and sentinel_kept(host)
    entry = ledger.releases(stack.ctx.config.deploy.state_dir, stack.project)[-1]
    assert (entry["tag"], entry["outcome"], entry["revision_after"]) == ("1.1.0", "deployed", "0002_order_note")
    # The rehearsal on a copy of the backup started 1.0.0 on the migrated schema: it serves (the new
    # column is nullable), so the rollback below needs no restore.
    assert entry["rollback_check"]["rollback"] == "safe", entry["rollback_check"]


def test_rollback_to_the_adopted_release(stack, host, reports):
    passed(run_check(stack, reports, "rollback")[0])
    assert version(host) == "1.0.0" and sentinel_kept(host)


def items(host) -> list[str]:
    """The distinct items the served database holds (read in the database service, as an operator)."""
    done = host.compose("exec", "-T", "db", "sh", "-c",
                        'mariadb -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" "$MARIADB_DATABASE" -N -e '
                        '"SELECT DISTINCT item FROM orders"')
    return done.stdout.splitlines()


class TestEngineContract(EngineContract):
    """MariaDB in the stack: the drill, the deploy's rehearsal, and a disaster restore into a NEW volume
    with the database and app recreated on it, then the switch back (testkit/engine_contract.py)."""

    def write(self, host, text):
        assert httpx.post(f"{host.base_url}/orders", json={"item": text}).status_code == 201

    def written(self, host):
        return items(host)

    def after_disaster(self, stack, host, report):
        switched = tomllib.loads(stack.config_path.read_text())["volumes"]
        assert re.fullmatch(r"[\w.-]+_restored_\d{8}T\d{6}Z", switched["database"]), switched
        assert volumes.mounted_database_volume(prepared_context(stack.ctx.config, "1.0.0")) == switched["database"]
        assert sentinel_kept(host)
        written = orders(host)
        time.sleep(1)
        assert orders(host) > written, "the app writes into the restored database"

    def after_switch_back(self, stack, host, report):
        assert "_restored_" not in tomllib.loads(stack.config_path.read_text())["volumes"]["database"]
        assert sentinel_kept(host)
