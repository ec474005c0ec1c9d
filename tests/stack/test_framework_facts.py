"""Discovery's facts from a real engine: the framework files in an app image's working directory,
and each framework's revision query as the suite runs it on a real Postgres (wrapped by
commands/postgres.revision_sql, as backups and restores do)."""

import time
import uuid

import pytest

from procedures import runner
from procedures.adopt.frameworks import BY_NAME
from procedures.adopt.image_facts import marker_files
from procedures.commands import docker as docker_cmd
from procedures.commands import postgres as pg

pytestmark = pytest.mark.stack
SERVER_IMAGE = "opsuite-local/postgres-standin:15"  # scripts/build-images.sh
EXAMPLE_API_IMAGE = "opsuite-local/zenops-api:1.0.0"  # the example app: Alembic, alembic.ini in its workdir

POSTGRES_TABLES = {
    "django": "CREATE TABLE django_migrations (id serial PRIMARY KEY, app text, name text, applied timestamptz);"
              "INSERT INTO django_migrations (app, name) VALUES ('auth', '0001_initial'), ('shop', '0002_price');",
    "alembic": "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
               "INSERT INTO alembic_version VALUES ('ae1027a6acf');",
    "rails": "CREATE TABLE schema_migrations (version varchar PRIMARY KEY);"
             "INSERT INTO schema_migrations VALUES ('20240101000000'), ('20250102030405');",
    "prisma": "CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, migration_name varchar(255), "
              "finished_at timestamptz, rolled_back_at timestamptz);"
              "INSERT INTO _prisma_migrations VALUES ('a', '20240101_init', now(), NULL), "
              "('b', '20250101_add', now(), NULL), ('c', '20260101_failed', NULL, NULL);",
    "knex": "CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch int, migration_time timestamptz);"
            "INSERT INTO knex_migrations (name) VALUES ('20240101_init.js'), ('20250101_add.js');",
    "drizzle": "CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text, "
               "created_at bigint);"
               "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('h1', 1700000000000), ('h2', 1800000000000);",
}
EXPECTED = {"django": "2 applied, last shop.0002_price", "alembic": "ae1027a6acf", "rails": "20250102030405",
            "prisma": "20250101_add", "knex": "20250101_add.js", "drizzle": "h2"}


@pytest.fixture(scope="module")
def postgres():
    """A throwaway Postgres with no network; its data lives in the container and goes with it."""
    name = f"opstest-frameworks-{uuid.uuid4().hex[:8]}"
    runner.run(["docker", "run", "--detach", "--name", name, "--network", "none", "--env", "POSTGRES_PASSWORD",
                SERVER_IMAGE], env={"POSTGRES_PASSWORD": uuid.uuid4().hex}, limit="command")
    try:
        deadline = time.monotonic() + 120
        # Over TCP: the entrypoint's first, initdb-time server listens on its socket only.
        while runner.run(docker_cmd.exec_in(name, ["pg_isready", "-h", "127.0.0.1", "-U", "postgres"]),
                         limit="command", check=False).returncode != 0:
            assert time.monotonic() < deadline, runner.run(docker_cmd.container_logs(name), limit="command").stdout
            time.sleep(1)
        yield name
    finally:
        runner.run(docker_cmd.remove_container(name), limit="command", check=False)


@pytest.mark.parametrize("framework", sorted(BY_NAME))
def test_each_revision_query_reads_the_latest_migration_on_postgres(postgres, framework):
    script = (f"BEGIN; {POSTGRES_TABLES[framework]} "
              f"{pg.revision_sql(BY_NAME[framework].revision_query('postgres'))}; ROLLBACK;")
    done = runner.run(["docker", "exec", "-i", postgres, "psql", "-U", "postgres", "--no-psqlrc",
                       "--quiet", "--tuples-only", "--no-align", "--set", "ON_ERROR_STOP=1"],
                      input_text=script, limit="command")
    assert done.stdout.strip() == EXPECTED[framework]


def test_an_images_framework_files_are_read_from_its_working_directory_and_absent_images_never_pulled():
    services = {"api": {"image": EXAMPLE_API_IMAGE}, "worker": {"image": EXAMPLE_API_IMAGE},
                "web": {"image": "opsuite-local/never-built-here:0.0.1"}, "built": {"build": {"context": "."}}}
    assert marker_files(services, ["api", "worker", "web", "built"]) == {"api": ["alembic.ini"], "worker": ["alembic.ini"],
                                                                         "web": []}
