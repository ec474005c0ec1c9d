"""Each framework's revision query in MariaDB's SQL, as discovery proposes it for engine "mariadb", run
on a real MariaDB server: `||` is OR there and group_concat takes a SEPARATOR, so Postgres' text would
answer otherwise or fail."""

import time
import uuid

import pytest

from procedures import runner
from procedures.adopt.frameworks import BY_NAME
from procedures.commands import docker as docker_cmd

SERVER_IMAGE = "opsuite-local/mariadb-standin:10.11"  # built by scripts/build-images.sh (bootstrap): never skipped
pytestmark = [pytest.mark.stack]

MARIADB_TABLES = {
    "django": "CREATE TABLE django_migrations (id serial PRIMARY KEY, app text, name text, applied timestamp);"
              "INSERT INTO django_migrations (app, name) VALUES ('auth', '0001_initial'), ('shop', '0002_price');",
    "alembic": "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
               "INSERT INTO alembic_version VALUES ('ae1027a6acf');",
    "rails": "CREATE TABLE schema_migrations (version varchar(64) PRIMARY KEY);"
             "INSERT INTO schema_migrations VALUES ('20240101000000'), ('20250102030405');",
    "prisma": "CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, migration_name varchar(255), "
              "finished_at datetime NULL, rolled_back_at datetime NULL);"
              "INSERT INTO _prisma_migrations VALUES ('a', '20240101_init', now(), NULL), "
              "('b', '20250101_add', now(), NULL), ('c', '20260101_failed', NULL, NULL);",
    "knex": "CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch int, migration_time timestamp);"
            "INSERT INTO knex_migrations (name) VALUES ('20240101_init.js'), ('20250101_add.js');",
    # drizzle-kit keeps its journal in the app's own database on MySQL.
    "drizzle": "CREATE TABLE __drizzle_migrations (id serial PRIMARY KEY, hash text, created_at bigint);"
               "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('h1', 1700000000000), ('h2', 1800000000000);",
}
EXPECTED = {"django": "2 applied, last shop.0002_price", "alembic": "ae1027a6acf", "rails": "20250102030405",
            "prisma": "20250101_add", "knex": "20250101_add.js", "drizzle": "h2"}


@pytest.fixture(scope="module")
def mariadb():
    """A throwaway MariaDB with no network; its data lives in the container and goes with it."""
    name = f"opstest-frameworks-mariadb-{uuid.uuid4().hex[:8]}"
    runner.run(["docker", "run", "--detach", "--name", name, "--network", "none", "--env", "MARIADB_ROOT_PASSWORD",
                "--env", "MARIADB_DATABASE=app", SERVER_IMAGE], env={"MARIADB_ROOT_PASSWORD": uuid.uuid4().hex},
               limit="command")
    try:
        deadline = time.monotonic() + 120
        # Over TCP: the entrypoint's first, init-time server listens on its socket only.
        while runner.run(docker_cmd.exec_in(name, ["sh", "-c", 'mariadb -h 127.0.0.1 -uroot -p"$MARIADB_ROOT_PASSWORD" '
                                                               "app -e 'SELECT 1'"]),
                         limit="command", check=False).returncode != 0:
            assert time.monotonic() < deadline, runner.run(docker_cmd.container_logs(name), limit="command").stdout
            time.sleep(1)
        yield name
    finally:
        runner.run(docker_cmd.remove_container(name), limit="command", check=False)


@pytest.mark.parametrize("framework", sorted(BY_NAME))
def test_each_revision_query_reads_the_latest_migration_on_mariadb(mariadb, framework):
    script = f"{MARIADB_TABLES[framework]} {BY_NAME[framework].revision_query('mariadb')}; DROP TABLE " \
             f"{MARIADB_TABLES[framework].split()[2]};"
    done = runner.run(["docker", "exec", "-i", mariadb, "sh", "-c",
                       'mariadb -h 127.0.0.1 -uroot -p"$MARIADB_ROOT_PASSWORD" --batch --skip-column-names app'],
                      input_text=script, limit="command")
    assert done.stdout.strip() == EXPECTED[framework]
