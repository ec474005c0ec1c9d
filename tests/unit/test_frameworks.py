"""Which migration framework an app uses and how it migrates on start (pure decisions), and each
framework's revision query run by the real SQLite the suite reads SQLite apps with."""

import sqlite3
from pathlib import Path

import pytest

from procedures.adopt import start_migrations
from procedures.adopt.proposal import propose
from procedures.adopt.roles import Roles
from procedures.adopt.frameworks import BY_NAME, FRAMEWORKS, identify

pytestmark = pytest.mark.unit


def test_a_marker_file_in_the_image_decides_over_the_words_of_the_command():
    """The issue's Django app: migrate_command was guessed as alembic although manage.py is there."""
    services = {"web": {"command": ["gunicorn", "shop.asgi:application"], "environment": {"ALEMBIC_X": "1"}}}
    found = identify(services, ["web"], {"web": ["manage.py"]})
    assert (found.framework.name, found.certain, found.why) == ("django", True, "manage.py in web's image")
    assert found.framework.migrate_command == ("python", "manage.py", "migrate", "--noinput")


@pytest.mark.parametrize("files, name", [
    (["alembic.ini"], "alembic"), (["bin/rails"], "rails"), (["prisma/schema.prisma"], "prisma"),
    (["knexfile.js"], "knex"), (["drizzle.config.ts"], "drizzle"), (["manage.py"], "django")])
def test_each_frameworks_file_names_it(files, name):
    assert identify({"app": {}}, ["app"], {"app": files}).framework.name == name


def test_words_of_the_command_name_the_framework_and_a_migrate_step_makes_it_certain():
    services = {"migrate": {"command": ["sh", "-c", "alembic upgrade head"]},
                "api": {"command": ["bundle", "exec", "puma"], "environment": {"RAILS_ENV": "production"}}}
    assert (identify(services, ["migrate", "api"], {}).framework.name, identify(services, ["migrate"], {}).certain) \
        == ("alembic", True)
    rails = identify(services, ["api"], {})
    assert (rails.framework.name, rails.certain) == ("rails", False), "puma says rails, but nothing migrates"


def test_nothing_seen_is_none():
    assert identify({"api": {"command": ["./server"]}}, ["api"], {"api": ["go.mod"]}) is None


SQLITE_TABLES = {
    "django": ["CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT)",
               "INSERT INTO django_migrations (app, name) VALUES ('auth', '0001_initial'), ('shop', '0002_price')"],
    "alembic": ["CREATE TABLE alembic_version (version_num TEXT PRIMARY KEY)",
                "INSERT INTO alembic_version VALUES ('ae1027a6acf')"],
    "rails": ["CREATE TABLE schema_migrations (version TEXT PRIMARY KEY)",
              "INSERT INTO schema_migrations VALUES ('20240101000000'), ('20250102030405')"],
    "prisma": ["CREATE TABLE _prisma_migrations (id TEXT, migration_name TEXT, finished_at TEXT, rolled_back_at TEXT)",
               "INSERT INTO _prisma_migrations VALUES ('a', '20240101_init', 'x', NULL), ('b', '20250101_add', 'x', NULL),"
               " ('c', '20260101_failed', NULL, NULL)"],
    "knex": ["CREATE TABLE knex_migrations (id INTEGER PRIMARY KEY, name TEXT, batch INT, migration_time TEXT)",
             "INSERT INTO knex_migrations (name) VALUES ('20240101_init.js'), ('20250101_add.js')"],
    "drizzle": ["CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash TEXT, created_at NUMERIC)",
                "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('h1', 1700000000000), ('h2', 1800000000000)"],
}
EXPECTED = {"django": "2 applied, last shop.0002_price", "alembic": "ae1027a6acf", "rails": "20250102030405",
            "prisma": "20250101_add", "knex": "20250101_add.js", "drizzle": "h2"}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_each_revision_query_returns_the_latest_migration_on_sqlite(name):
    connection = sqlite3.connect(":memory:")
    for statement in SQLITE_TABLES[name]:
        connection.execute(statement)
    rows = connection.execute(BY_NAME[name].revision_query("sqlite")).fetchall()
    assert rows == [(EXPECTED[name],)], "one value, as engines/sqlite_copy.py requires"


def test_every_framework_has_a_sqlite_case():
    assert {f.name for f in FRAMEWORKS} == set(SQLITE_TABLES)


def test_an_env_switch_that_migrates_on_start_is_turned_off_in_its_own_spelling():
    services = {"web": {"environment": {"DJANGO_PERFORM_MIGRATIONS": "True", "DEBUG": "True"}},
                "worker": {"environment": {"RUN_MIGRATIONS": "1", "MIGRATE_ON_START": "false"}}}
    found = start_migrations.switches(services, ["web", "worker"])
    assert [(s.service, s.variable, s.value, s.off) for s in found] == [
        ("web", "DJANGO_PERFORM_MIGRATIONS", "True", "False"), ("worker", "RUN_MIGRATIONS", "1", "0"),
        # the worker turns it off; web, without it, runs the default
        ("web", "MIGRATE_ON_START", "", "false")]


def test_a_switch_named_for_the_opposite_is_turned_off_with_true():
    """twenty: the worker sets DISABLE_DB_MIGRATIONS=true, the server leaves it unset and migrates on start."""
    services = {"server": {"environment": {"PG_DATABASE_URL": "postgres://x"}},
                "worker": {"environment": {"DISABLE_DB_MIGRATIONS": "true"}}}
    found = start_migrations.switches(services, ["server", "worker"])
    assert [(s.service, s.variable, s.value, s.off) for s in found] == [("server", "DISABLE_DB_MIGRATIONS", "", "true")]
    assert start_migrations.switch_offs(services, ["server", "worker"])[0] == {"DISABLE_DB_MIGRATIONS": "true"}
    services["server"]["environment"]["DISABLE_DB_MIGRATIONS"] = "false"
    assert [(s.service, s.value, s.off) for s in start_migrations.switches(services, ["server", "worker"])] == [
        ("server", "false", "true")]


def test_a_shell_command_that_migrates_then_serves_is_given_without_the_migration():
    services = {"api": {"command": ["sh", "-c", "alembic upgrade head && uvicorn app:app --host 0.0.0.0"]},
                "web": {"command": ["bin/rails", "db:migrate"]},
                "worker": {"entrypoint": ["/docker-entrypoint.sh"], "command": ["celery", "worker"]}}
    found = start_migrations.start_commands(services, ["api", "web", "worker"])
    assert [(c.service, c.without) for c in found] == [
        ("api", ("sh", "-c", "uvicorn app:app --host 0.0.0.0")),
        ("web", None)], "a command that only migrates cannot be started without it; the worker migrates nothing"


def test_the_images_own_switch_counts_under_the_compose_files_and_an_entrypoints_variable_is_a_guess():
    services = {"web": {"environment": {"RUN_MIGRATIONS": "yes"}}, "worker": {}}
    images = {"web": {"env": {"DJANGO_PERFORM_MIGRATIONS": "True", "RUN_MIGRATIONS": "no"}},
              "worker": {"env": {}, "entrypoint": {"script": "/entrypoint.sh", "migrates": ["npx prisma migrate deploy"],
                                                   "variables": ["MIGRATE_ON_BOOT", "RUN_MIGRATIONS"]}}}
    found = start_migrations.switches(services, ["web", "worker"], images)
    assert [(s.variable, s.value) for s in found] == [("DJANGO_PERFORM_MIGRATIONS", "True"), ("RUN_MIGRATIONS", "yes")]
    offs, guessed = start_migrations.switch_offs(services, ["web", "worker"], images)
    assert offs == {"DJANGO_PERFORM_MIGRATIONS": "False", "MIGRATE_ON_BOOT": "false", "RUN_MIGRATIONS": "no"}
    assert guessed == ["MIGRATE_ON_BOOT"], "no environment sets it on: its off value is assumed"
    assert [(e.service, e.script) for e in start_migrations.entrypoint_migrations(["web", "worker"], images)] == [
        ("worker", "/entrypoint.sh")]


HC_INI = "/opt/healthchecks/docker/uwsgi.ini"
HC_IMAGES = {"web": {"env": {}, "cmd": ["uwsgi", HC_INI],
                     "entrypoint": {"script": HC_INI, "migrates": ["hook-pre-app = exec:./manage.py migrate"],
                                    "variables": []}}}


def test_a_server_config_that_migrates_is_started_from_a_copy_without_those_lines():
    """healthchecks' uwsgi.ini runs `manage.py migrate` as a hook, with no switch: the command is the image's
    own, over a copy of the ini made at start without that line (each release's own ini is the one copied)."""
    found = start_migrations.config_file_commands({"web": {}}, ["web"], HC_IMAGES)
    assert [(c.service, c.command) for c in found] == [("web", ("uwsgi", HC_INI))]
    assert found[0].without == (
        "sh", "-c", f"grep -v -F -e 'hook-pre-app = exec:./manage.py migrate' {HC_INI} > /tmp/opsuite-uwsgi.ini "
                    '&& exec "$@"', "sh", "uwsgi", "/tmp/opsuite-uwsgi.ini")
    proposal = propose({"services": {"web": {"image": "hc:1"}, "db": {"image": "postgres:16"}}},
                       Roles(database="db", api="web", app=["web"]), "hc", [Path("/srv/hc/docker-compose.yml")],
                       Path("/srv/hc/docker-compose.opsuite.yml"), images=HC_IMAGES)
    assert 'app_commands = { "web" = ["sh", "-c", "grep -v -F' in proposal


def test_a_shell_command_that_waits_then_starts_the_server_gets_the_copy_in_its_string():
    """healthchecks' compose file: `bash -c "while ! </dev/tcp/db/5432; do sleep 1; done; uwsgi .../uwsgi.ini"`."""
    waits = ["bash", "-c", f"while !</dev/tcp/db/5432; do sleep 1; done; uwsgi {HC_INI}"]
    found = start_migrations.config_file_commands({"web": {"command": waits}}, ["web"], HC_IMAGES)
    assert [c.without for c in found] == [(
        "bash", "-c", f"grep -v -F -e 'hook-pre-app = exec:./manage.py migrate' {HC_INI} > /tmp/opsuite-uwsgi.ini "
                      "|| exit 1; while !</dev/tcp/db/5432; do sleep 1; done; uwsgi /tmp/opsuite-uwsgi.ini")]
    longer = ["sh", "-c", f"uwsgi {HC_INI}.bak"]
    assert start_migrations.config_file_commands({"web": {"command": longer}}, ["web"], HC_IMAGES) == [], \
        "only the path as a whole word is the file"


def test_no_copy_when_a_variable_switches_it_or_the_file_is_not_a_word_of_the_command():
    switched = {"web": {**HC_IMAGES["web"], "entrypoint": {**HC_IMAGES["web"]["entrypoint"], "variables": ["MIGRATE"]}}}
    assert start_migrations.config_file_commands({"web": {}}, ["web"], switched) == []
    assert start_migrations.config_file_commands({"web": {"command": ["uwsgi", "--ini", "/etc/other.ini"]}},
                                                  ["web"], HC_IMAGES) == []
    script = {"web": {**HC_IMAGES["web"], "entrypoint": {**HC_IMAGES["web"]["entrypoint"], "script": "/entrypoint.sh"}}}
    assert start_migrations.config_file_commands({"web": {}}, ["web"], script) == [], "a shell script is not cut by lines"


@pytest.mark.parametrize("name", ["django", "alembic", "drizzle"])
def test_mariadb_gets_sql_it_reads_as_meant(name):
    """MariaDB reads `||` as OR and group_concat(a, ',') as one string: those frameworks spell it for it."""
    query = BY_NAME[name].revision_query("mariadb")
    assert "||" not in query and "string_agg" not in query and "drizzle.__" not in query
    assert query != BY_NAME[name].revision_query("postgres")
