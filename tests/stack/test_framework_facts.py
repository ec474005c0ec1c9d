"""Discovery's facts from a real engine: the framework files in an app image's working directory,
and each framework's revision query as the suite runs it on a real Postgres (wrapped by
commands/postgres.revision_sql, as backups and restores do)."""

import time
import uuid

import pytest

from procedures import runner
from procedures.adopt.frameworks import BY_NAME
from procedures.adopt import discover
from procedures.adopt.image_facts import marker_files, read_images
from procedures.load import load_config
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
    images = read_images(services, ["api", "worker", "web", "built"])
    assert marker_files(images) == {"api": ["alembic.ini"], "worker": ["alembic.ini"], "web": []}
    assert "PATH" in images["api"]["env"] and "entrypoint" not in images["api"], "the example migrates as a one-off"


ENTRYPOINT = """#!/bin/sh
set -e
# migrations first, unless switched off
if [ "$DJANGO_PERFORM_MIGRATIONS" = "True" ]; then
  python manage.py migrate --noinput
fi
exec "$@"
"""


@pytest.fixture(scope="module")
def django_image(tmp_path_factory):
    """An image shaped like the issue's Django app: manage.py in its workdir, the switch on in its own
    ENV, an entrypoint script that migrates. Built here from the local base, removed after."""
    context = tmp_path_factory.mktemp("django-image")
    (context / "docker-entrypoint.sh").write_text(ENTRYPOINT)
    (context / "manage.py").write_text("# a stand-in: only its presence matters to discovery\n")
    (context / "Dockerfile").write_text(
        "FROM opsuite-local/debian:bookworm\nWORKDIR /app\nCOPY manage.py docker-entrypoint.sh /app/\n"
        "RUN chmod 755 /app/docker-entrypoint.sh\nENV DJANGO_PERFORM_MIGRATIONS=True\n"
        'ENTRYPOINT ["/app/docker-entrypoint.sh"]\nCMD ["gunicorn", "shop.wsgi"]\n')
    tag = f"opstest-frameworks-django:{uuid.uuid4().hex[:8]}"
    runner.run(["docker", "build", "--quiet", "--tag", tag, str(context)], limit="command", timeout=300)
    try:
        yield tag
    finally:
        runner.run(["docker", "image", "rm", tag], limit="command", check=False)


def test_a_migrating_entrypoint_and_the_images_own_switch_are_found_and_turned_off(django_image, tmp_path, monkeypatch):
    """The issue's Django app: its image migrates on start (DJANGO_PERFORM_MIGRATIONS=True in the
    image, run by its entrypoint) though the compose file says nothing of it."""
    monkeypatch.delenv("TAG", raising=False)
    app = tmp_path / "shop"
    app.mkdir()
    (app / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:16.4\n    volumes: [\"pgdata:/var/lib/postgresql/data\"]\n"
        f"  web:\n    image: {django_image}\n    ports: [\"127.0.0.1:8000:8000\"]\nvolumes:\n  pgdata: {{}}\n")
    run = discover.discover([str(app / "docker-compose.yml")], project="opstest-fwshop",
                            proposal_path=tmp_path / "ops.toml")
    assert (run.roles.framework.framework.name, run.roles.framework.certain) == ("django", True)
    risks = "\n".join(f"{r.what} | {r.fix}" for r in run.risks)
    assert "migrations run on app start: web DJANGO_PERFORM_MIGRATIONS=True" in risks
    assert ("web's image entrypoint /app/docker-entrypoint.sh runs `python manage.py migrate --noinput`" in risks
            and 'app_environment = { DJANGO_PERFORM_MIGRATIONS = "False" }' in risks)
    config = load_config(tmp_path / "ops.toml")
    assert config.deploy.app_environment == (("DJANGO_PERFORM_MIGRATIONS", "False"),)
    assert config.deploy.migrate_command == ("python", "manage.py", "migrate", "--noinput")


UWSGI_INI = """[uwsgi]
chdir = /opt/app
# Note: manage.py migrate also runs system checks
hook-pre-app = exec:./manage.py migrate
attach-daemon = ./manage.py sendalerts
"""


@pytest.fixture(scope="module")
def uwsgi_image(tmp_path_factory):
    """healthchecks' shape: the image's CMD loads an ini whose hook migrates, with no switch; `cat` stands
    in for uwsgi so the test sees the file the server would load."""
    context = tmp_path_factory.mktemp("uwsgi-image")
    (context / "uwsgi.ini").write_text(UWSGI_INI)
    (context / "Dockerfile").write_text("FROM opsuite-local/debian:bookworm\nWORKDIR /opt/app\n"
                                        "COPY uwsgi.ini /opt/app/\nUSER nobody\n"
                                        'CMD ["cat", "/opt/app/uwsgi.ini"]\n')
    tag = f"opstest-frameworks-uwsgi:{uuid.uuid4().hex[:8]}"
    runner.run(["docker", "build", "--quiet", "--tag", tag, str(context)], limit="command", timeout=300)
    try:
        yield tag
    finally:
        runner.run(["docker", "image", "rm", tag], limit="command", check=False)


@pytest.mark.parametrize("command", [None, "sh -c 'while false; do sleep 1; done; cat /opt/app/uwsgi.ini'"])
def test_a_migrating_server_config_is_loaded_from_a_copy_without_the_hook(uwsgi_image, command, tmp_path,
                                                                          monkeypatch):
    """Discovery reads the ini from the image, proposes the start command over a copy without the migrating
    line, and that command, run as the overlay runs it in a real container (a user other than root), loads
    every other line of the release's own file."""
    monkeypatch.delenv("TAG", raising=False)
    app = tmp_path / "hc"
    app.mkdir()
    own = f"    command: {command}\n" if command else ""
    (app / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:16.4\n    volumes: [\"pgdata:/var/lib/postgresql/data\"]\n"
        f"  web:\n    image: {uwsgi_image}\n{own}    ports: [\"127.0.0.1:8000:8000\"]\nvolumes:\n  pgdata: {{}}\n")
    run = discover.discover([str(app / "docker-compose.yml")], project="opstest-fwhc", proposal_path=tmp_path / "ops.toml")
    risks = "\n".join(f"{r.what} | {r.fix}" for r in run.risks)
    assert "web's image entrypoint /opt/app/uwsgi.ini runs `hook-pre-app = exec:./manage.py migrate`" in risks
    started = dict(load_config(tmp_path / "ops.toml").deploy.app_commands)["web"]
    assert "app_commands" in risks

    loaded = runner.run(["docker", "run", "--rm", "--network", "none", uwsgi_image, *started], limit="command").stdout

    assert loaded == UWSGI_INI.replace("hook-pre-app = exec:./manage.py migrate\n", "")
