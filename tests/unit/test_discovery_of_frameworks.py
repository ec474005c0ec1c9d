"""Discovery of how an app migrates, on compose files rendered by the real compose CLI: the framework's
migrate command and revision query proposed, a migration on start flagged with its fix, and the
generated overlay starting the app without it."""

import json
from pathlib import Path

import pytest

from procedures.adopt import discover
from procedures.commands import compose as compose_cmd
from procedures.load import load_config
from procedures.context import prepared_context
from procedures import runner

pytestmark = pytest.mark.compose

DJANGO = """\
services:
  db:
    image: postgres:16.4
    environment: {POSTGRES_PASSWORD: a-long-fixture-password-for-tests}
    volumes: ["pgdata:/var/lib/postgresql/data"]
  web:
    image: example/shop:1.4.0
    command: ["gunicorn", "shop.wsgi:application", "--bind", "0.0.0.0:8000"]
    environment:
      DJANGO_SETTINGS_MODULE: shop.settings
      DJANGO_PERFORM_MIGRATIONS: "True"
    healthcheck:
      test: ["CMD-SHELL", "python -c 'import socket; socket.create_connection((\\"localhost\\", 8000))'"]
  worker:
    image: example/shop:1.4.0
    command: ["celery", "-A", "shop", "worker"]
    environment:
      DJANGO_SETTINGS_MODULE: shop.settings
      DJANGO_PERFORM_MIGRATIONS: "True"
  proxy:
    image: nginx:1.27
    ports: ["127.0.0.1:8080:80"]
    depends_on: [web]
volumes:
  pgdata: {}
"""

ALEMBIC_ON_START = """\
services:
  db:
    image: postgres:16.4
    environment: {POSTGRES_PASSWORD: a-long-fixture-password-for-tests}
    volumes: ["pgdata:/var/lib/postgresql/data"]
  api:
    image: example/api:2.0.1
    command: ["sh", "-c", "alembic upgrade head && uvicorn app.main:app --host 0.0.0.0"]
    ports: ["127.0.0.1:8000:8000"]
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000"]
volumes:
  pgdata: {}
"""


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in ("TAG", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_FILE", "PGDATA_VOLUME"):
        monkeypatch.delenv(name, raising=False)


def discovered(tmp_path: Path, text: str, name: str):
    app = tmp_path / name
    app.mkdir()
    (app / "docker-compose.yml").write_text(text)
    run = discover.discover([str(app / "docker-compose.yml")], project=f"opstest-{name}",
                            proposal_path=tmp_path / "ops.toml")
    return run, load_config(tmp_path / "ops.toml")


def rendered(config, tag: str) -> dict:
    prepared_context(config, tag)  # writes the generated overlay ([stack] overlay) from the config
    return json.loads(runner.run(compose_cmd.config_json_every_profile(config.stack), env={"TAG": tag},
                                 limit="command", cwd=str(config.stack.compose_files[0].parent)).stdout)


def line_of(proposal: str, key: str) -> str:
    return next(line for line in proposal.splitlines() if line.startswith(f"{key} ="))


def test_django_migrating_on_start_is_flagged_and_the_overlay_turns_it_off(tmp_path):
    """The issue's Django app: DJANGO_PERFORM_MIGRATIONS=True was not flagged, no revision query was
    proposed, migrate_command was guessed as alembic, a healthcheck with no path was guessed as /readyz."""
    run, config = discovered(tmp_path, DJANGO, "shop")
    assert run.roles.framework.framework.name == "django"
    risks = "\n".join(f"{r.what} | {r.fix}" for r in run.risks)
    assert ("migrations run on app start: web DJANGO_PERFORM_MIGRATIONS=True, worker DJANGO_PERFORM_MIGRATIONS=True"
            in risks) and 'app_environment = { DJANGO_PERFORM_MIGRATIONS = "False" }' in risks
    assert config.deploy.migrate_command == ("python", "manage.py", "migrate", "--noinput")
    assert "django_migrations" in config.database.revision_query
    assert config.deploy.app_environment == (("DJANGO_PERFORM_MIGRATIONS", "False"),)
    assert config.http.ready_path == "/"
    assert "GUESS: web's healthcheck asks no HTTP path (it runs `python -c" in line_of(run.proposal, "ready_path")
    assert "GUESS" in line_of(run.proposal, "migrate_command"), "DJANGO_SETTINGS_MODULE is a name, not a file"
    services = rendered(config, "1.5.0")["services"]
    for name in ("web", "worker"):
        assert services[name]["environment"]["DJANGO_PERFORM_MIGRATIONS"] == "False"
        assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == "shop.settings", "the rest stays"
        assert services[name]["image"] == "example/shop:1.5.0"


def test_a_command_that_migrates_then_serves_starts_without_the_migration(tmp_path):
    run, config = discovered(tmp_path, ALEMBIC_ON_START, "api")
    assert "migrations run on app start: api runs `sh -c alembic upgrade head && uvicorn" in \
        "\n".join(r.what for r in run.risks)
    assert config.deploy.migrate_command == ("alembic", "upgrade", "head")
    assert "GUESS" not in line_of(run.proposal, "migrate_command"), "the command itself says alembic upgrade"
    assert config.deploy.app_commands == (("api", ("sh", "-c", "uvicorn app.main:app --host 0.0.0.0")),)
    assert "alembic_version" in config.database.revision_query
    assert (config.http.ready_path, config.restore.sample_queries) == ("/", ("SELECT version_num FROM alembic_version",))
    services = rendered(config, "2.0.2")["services"]
    assert services["api"]["command"] == ["sh", "-c", "uvicorn app.main:app --host 0.0.0.0"]


def test_app_commands_for_a_service_that_is_no_app_service_is_refused(tmp_path):
    run, config = discovered(tmp_path, ALEMBIC_ON_START, "api")
    path = tmp_path / "ops.toml"
    path.write_text(path.read_text().replace('app_commands = { "api"', 'app_commands = { "apii"'))
    with pytest.raises(Exception, match=r"\[deploy\] app_commands names apii, which \[services\] app does not list"):
        load_config(path)
