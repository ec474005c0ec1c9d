"""Discovery on compose files shaped as the seeds describe our users' stacks (tests/fixtures/stacks/),
rendered by the real compose CLI: roles, risks and a proposed config that loads."""

from pathlib import Path

import pytest

from procedures.adopt import discover
from procedures.load import load_config

pytestmark = pytest.mark.compose
STACKS = Path(__file__).resolve().parents[1] / "fixtures" / "stacks"


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    """As an operator's shell would be: none of the variables the fixtures interpolate."""
    for name in ("TAG", "API_IMAGE", "PROXY_PORT", "POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB",
                 "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_FILE"):
        monkeypatch.delenv(name, raising=False)


def discovered(name: str, *extra: str, tmp_path: Path | None = None):
    files = [str(STACKS / name / "docker-compose.yml"), *(str(STACKS / name / f) for f in extra)]
    return discover.discover(files, proposal_path=tmp_path / "proposal.toml" if tmp_path else None)


def risk_text(run) -> str:
    return "\n".join(f"{r.what} | {r.fix}" for r in run.risks)


def test_zen_ops_roles(tmp_path):
    run = discovered("zenops", tmp_path=tmp_path)
    roles = run.roles
    assert (roles.database, roles.engine) == ("db", "postgres")
    assert vars(roles.database_volume) == {"key": "postgres_data", "name": "zenops_postgres_data", "external": False,
                                           "target": "/var/lib/postgresql/data"}
    assert (roles.app, roles.single_instance, roles.proxy) == (["api", "email-worker"], ["email-worker"], "reverse-proxy")
    assert (roles.one_offs, roles.migrate) == (["migrate", "uploads-perms"], "migrate")
    assert {m["service"] for m in roles.backup_machinery} == {"backup", "backup-cron", "rclone"}


def test_zen_ops_risks_each_with_a_fix(tmp_path):
    text = risk_text(discovered("zenops", tmp_path=tmp_path))
    assert "postgres_data (zenops_postgres_data) is owned by compose" in text and "external" in text
    assert "latest or untagged images: api (ghcr.io/zen-ops/api:latest)" in text
    assert "no restart policy: reverse-proxy " in text
    assert "no log rotation" in text and "max-size" in text
    assert "(backup-cron) would run beside the suite's nightly timer" in text
    assert "up` of api, email-worker runs migrate first, with no backup before it" in text
    assert "publishes port" not in text, "a proxy on 80/443 is fine; the database publishes nothing"
    assert "no backup covers" not in text, "the app's own backup service mounts the uploads volume"


def test_zen_ops_proposal_loads_and_marks_its_guesses(tmp_path):
    run = discovered("zenops", "docker-compose.loopback.yml", tmp_path=tmp_path)
    config = load_config(tmp_path / "proposal.toml")
    assert (config.services.database, config.services.app, config.services.migrate) == ("db", ("api", "email-worker"),
                                                                                        "migrate")
    assert config.volumes.database == "zenops_postgres_data"
    assert config.http.base_url == "http://127.0.0.1:8088"
    assert [f.name for f in config.stack.compose_files] == ["docker-compose.yml", "docker-compose.loopback.yml",
                                                            "docker-compose.opsuite.yml"]
    assert config.stack.overlay == STACKS / "zenops" / "docker-compose.opsuite.yml"
    assert (config.volumes.uploads, config.volumes.backups) == ("uploads", "opsuite_backups")
    assert (config.http.ready_path, config.restore.sample_queries) == ("/readyz", ("SELECT version_num FROM alembic_version",))
    guessed = [line.split(" =")[0] for line in run.proposal.splitlines() if " = " in line and "# GUESS:" in line]
    assert guessed == ["environment", "single_instance", "ready_path", "version_path", "version_field", "remote",
                       "path", "sample_queries"]
    assert [check.path for check in config.deploy.smoke] == ["/readyz"], "the api's own healthcheck path"


def test_zak_ops_database_outside_the_stack():
    run = discovered("zakops")
    roles = run.roles
    assert (roles.database, roles.engine, roles.database_url_host) == (None, "postgres-url", "postgres.zakops.example.test")
    assert (roles.app, roles.single_instance, roles.proxy) == (["backend", "outbox-processor"], ["outbox-processor"], None)
    assert "database.engine" in roles.guesses
    assert "backend publishes port 8000 on 0.0.0.0" in risk_text(run)


def test_zak_ops_proposal_loads_as_a_database_reached_by_its_url(tmp_path):
    run = discovered("zakops", tmp_path=tmp_path)
    config = load_config(tmp_path / "proposal.toml")
    assert (config.database.engine, config.services.database, config.volumes.database) == ("postgres-url", "", "")
    assert (config.url_service, config.database.url_variable) == ("backend", "DATABASE_URL")
    assert config.url_file == STACKS / "zakops" / ".env", "the file that sets the URL, which a disaster restore edits"
    assert config.http.base_url == "http://127.0.0.1:8000", "no proxy: the api's own published port"
    assert config.database.revision_query == "", "no Alembic in sight: no revision query until the operator gives one"
    guessed = [line.split(" =")[0] for line in run.proposal.splitlines() if " = " in line and "# GUESS:" in line]
    assert {"engine", "url_file", "server_image", "revision_query", "base_url", "migrate_command"} <= set(guessed)


def test_lazyflow_sqlite_in_a_volume():
    run = discovered("lazyflow")
    roles = run.roles
    assert (roles.engine, roles.sqlite_path) == ("sqlite", "/app/data/lazyflow.db")
    assert (roles.database_volume.key, roles.database_volume.target) == ("lazyflow_data", "/app/data")
    assert (roles.app, roles.proxy) == (["app"], "reverse-proxy")
    assert "no backup covers: lazyflow_backups, lazyflow_uploads" in risk_text(run)


def test_lazyflow_the_first_app_service_holding_the_sqlite_file_is_proposed_single_instance(tmp_path):
    """Seed 003: "only one copy". The one app service is the api, the bot and the jobs, and it holds
    the file: discovery proposes it single-instance, as a guess the operator confirms."""
    run = discovered("lazyflow", tmp_path=tmp_path)
    assert run.roles.single_instance == ["app"]
    line = next(line for line in run.proposal.splitlines() if line.startswith("single_instance ="))
    assert line == ('single_instance = ["app"]   # GUESS: app holds the SQLite database /app/data/lazyflow.db '
                    "(one copy only): confirm two copies must never run at once")
    assert load_config(tmp_path / "proposal.toml").services.single_instance == ("app",)


def test_every_app_service_on_the_sqlite_files_volume_and_every_worker_is_proposed_single_instance(tmp_path):
    """A bot beside the app on the same image and the same data volume holds the file too; a worker
    on the uploads volume only is single-instance by its name, as before."""
    extra = tmp_path / "docker-compose.more.yml"
    extra.write_text("services:\n"
                     "  bot:\n    image: ${LAZYFLOW_APP_IMAGE:-lazyflow-app}:${TAG:-local}\n"
                     "    volumes: [\"lazyflow_data:/data\"]\n"
                     "  queue-worker:\n    image: ${LAZYFLOW_APP_IMAGE:-lazyflow-app}:${TAG:-local}\n"
                     "    volumes: [\"lazyflow_uploads:/app/uploads\"]\n"
                     "  web:\n    image: ${LAZYFLOW_APP_IMAGE:-lazyflow-app}:${TAG:-local}\n")
    run = discover.discover([str(STACKS / "lazyflow" / "docker-compose.yml"), str(extra)])
    assert run.roles.app == ["app", "bot", "queue-worker", "web"]
    assert run.roles.single_instance == ["app", "bot", "queue-worker"]
    assert run.roles.guesses["services.single_instance"] == (
        "app, bot hold the SQLite database /app/data/lazyflow.db (one copy only); queue-worker named or run like "
        "a worker: confirm two copies must never run at once")


def test_lazyflow_proposal_loads_as_a_sqlite_file_on_the_apps_volume(tmp_path):
    run = discovered("lazyflow", tmp_path=tmp_path)
    config = load_config(tmp_path / "proposal.toml")
    assert (config.database.engine, config.services.database) == ("sqlite", "")
    assert (config.database.file, config.volumes.database) == ("/app/data/lazyflow.db", "lazyflow_lazyflow_data")
    assert config.volumes.uploads == "lazyflow_uploads", "of several volumes, the one named for files"
    guessed = [line.split(" =")[0] for line in run.proposal.splitlines() if " = " in line and "# GUESS:" in line]
    assert {"database", "engine", "uploads", "revision_query", "migrate_command"} <= set(guessed)


def test_mariashop_on_mariadb_is_proposed_for_the_mariadb_engine(tmp_path, monkeypatch):
    """The official mariadb image, its MARIADB_* variables and its volume on /var/lib/mysql: engine, volume,
    credential variables and the backup image of the server's tools are facts, not guesses."""
    for name in ("MARIADB_IMAGE", "MARIASHOP_IMAGE", "APP_PORT", "MIGRATE_ON_START", "WRITE_LOAD_MS"):
        monkeypatch.delenv(name, raising=False)
    run = discovered("mariashop", tmp_path=tmp_path)
    roles = run.roles
    assert (roles.database, roles.engine, roles.api, roles.app) == ("db", "mariadb", "app", ["app"])
    assert (roles.database_volume.name, roles.database_volume.target) == ("mariashop_db_data", "/var/lib/mysql")
    assert "database.engine" not in roles.guesses
    lines = run.proposal.splitlines()
    database = lines[lines.index("[database]"):]
    assert database[:4] == ['[database]', 'engine = "mariadb"', 'user_variable = "MARIADB_USER"',
                            'password_variable = "MARIADB_PASSWORD"'] and database[4] == 'name_variable = "MARIADB_DATABASE"'
    image = next(line for line in lines if line.startswith("image = "))
    assert image.startswith('image = "opsuite-backup:mariadb10.11"   # GUESS:')
    assert "--build-arg SERVER_IMAGE=mariadb:10.11 -t opsuite-backup:mariadb10.11 backup-image/" in image
