"""Discovery reads the project name, files and profiles exactly as `docker compose` does (the real
CLI renders tests/fixtures/compose-rules/, one folder per rule): `-p`, COMPOSE_PROJECT_NAME in the
environment and in `.env`, top-level `name:`, the folder; COMPOSE_FILE in `.env` with its separator,
compose's default files; COMPOSE_PROFILES; `include:`."""

from pathlib import Path

import pytest

from procedures import plain_compose
from procedures.adopt import compose_rules, discover
from procedures.config import StackConfig
from procedures.load import load_config

pytestmark = pytest.mark.compose

RULES = Path(__file__).resolve().parents[1] / "fixtures" / "compose-rules"


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    """As an operator's shell would be: no COMPOSE_* variable of its own."""
    for name in ("COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PATH_SEPARATOR", "TAG"):
        monkeypatch.delenv(name, raising=False)


def discovered(*paths: str, project: str | None = None, tmp_path: Path | None = None):
    return discover.discover([str(RULES / p) for p in paths], project,
                             tmp_path / "proposal.toml" if tmp_path else None)


def names(files) -> list[str]:
    return [Path(f).name for f in files]


def test_the_project_name_in_dot_env_names_the_project_and_its_database_volume(tmp_path):
    """The issue's case: the folder says dotenv-name, .env says zenops; compose (and so the data) uses zenops."""
    run = discovered("dotenv-name/docker-compose.yml", tmp_path=tmp_path)
    assert run.project == "zenops"
    assert run.roles.database_volume.name == "zenops_pgdata"
    config = load_config(tmp_path / "proposal.toml")
    assert (config.stack.project, config.volumes.database) == ("zenops", "zenops_pgdata")


def test_the_environment_wins_over_dot_env(monkeypatch):
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "fromshell")
    run = discovered("dotenv-name")
    assert (run.project, run.roles.database_volume.name) == ("fromshell", "fromshell_pgdata")


def test_project_option_wins_over_every_other_rule():
    run = discovered("dotenv-name/docker-compose.yml", project="given")
    assert (run.project, run.roles.database_volume.name) == ("given", "given_pgdata")


def test_top_level_name():
    run = discovered("top-level-name/docker-compose.yml")
    assert (run.project, run.roles.database_volume.name) == ("shopfront", "shopfront_pgdata")


def test_the_folder_as_compose_normalises_it():
    """Lowercased, the dot dropped: compose's rule, not one the suite keeps."""
    assert discovered("Folder.Name/docker-compose.yml").project == "foldername"


def test_compose_file_in_dot_env_lists_two_files(tmp_path):
    run = discovered("compose-file", tmp_path=tmp_path)
    assert names(run.compose_files) == ["base.yml", "prod.yml"]
    assert run.project == "compose-file"
    assert run.roles.app == ["api", "email-worker"], "prod.yml's worker is part of the stack"
    config = load_config(tmp_path / "proposal.toml")
    assert names(config.stack.compose_files) == ["base.yml", "prod.yml", "docker-compose.opsuite.yml"]
    assert config.stack.overlay == RULES / "compose-file" / "docker-compose.opsuite.yml"


def test_compose_file_with_its_path_separator():
    run = discovered("compose-file-separator")
    assert names(run.compose_files) == ["base.yml", "prod.yml"]


def test_the_environment_compose_file_wins_over_dot_env(monkeypatch):
    monkeypatch.setenv("COMPOSE_FILE", "base.yml")
    assert names(discovered("compose-file").compose_files) == ["base.yml"]


def test_files_passed_apart_from_compose_file_are_used_and_flagged():
    """-f reads what it is given, as compose does; that plain compose there reads more is a risk."""
    run = discovered("compose-file/base.yml")
    assert names(run.compose_files) == ["base.yml"] and "email-worker" not in run.model["services"]
    text = "\n".join(f"{r.what} | {r.fix}" for r in run.risks)
    assert "reads " in text and "prod.yml (its COMPOSE_FILE)" in text and "--compose-file=" in text


def test_default_files_with_their_override(tmp_path):
    run = discovered("default-files", tmp_path=tmp_path)
    assert names(run.compose_files) == ["compose.yaml", "compose.override.yaml"]
    assert load_config(tmp_path / "proposal.toml").http.base_url == "http://127.0.0.1:8088", "the override's port"


def test_a_service_only_in_a_profile_that_is_off_is_no_app_service(tmp_path):
    run = discovered("profiles", tmp_path=tmp_path)
    assert run.roles.profile_only == ["watchdog"]
    assert run.roles.app == ["api", "email-worker"], "COMPOSE_PROFILES=jobs in .env turns the worker on"
    rows = {row["service"]: row["role"] for row in discover.identify_roles(run)}
    assert rows["watchdog"] == "not started (profile not active)"
    assert load_config(tmp_path / "proposal.toml").services.app == ("api", "email-worker")


def test_compose_profiles_in_the_environment_turns_a_profile_on(monkeypatch):
    monkeypatch.setenv("COMPOSE_PROFILES", "observability")
    run = discovered("profiles")
    assert (run.roles.profile_only, run.roles.app) == (["email-worker"], ["api", "watchdog"])


def test_include_brings_the_database_in():
    run = discovered("include")
    assert (run.roles.database, run.roles.database_volume.name) == ("db", "include_pgdata")
    assert names(run.compose_files) == ["docker-compose.yml"], "an included file is not a compose file of its own"


def test_the_pinned_env_file_makes_plain_compose_read_the_suite_s_files_whatever_its_separator(tmp_path):
    """adopt's COMPOSE_FILE in .env, read back by compose: an operator's COMPOSE_PATH_SEPARATOR=, would have
    split it at commas and read one file named with a colon."""
    app, overlay = tmp_path / "docker-compose.yml", tmp_path / "docker-compose.opsuite.yml"
    app.write_text((RULES / "dotenv-name" / "docker-compose.yml").read_text())
    overlay.write_text("services:\n  api:\n    image: ghcr.io/acme/api:${TAG:?}\n")
    (tmp_path / ".env").write_text("COMPOSE_PATH_SEPARATOR=,\nCOMPOSE_FILE=docker-compose.yml\n")
    plain_compose.pin(StackConfig("shop", (app, overlay), overlay=overlay), "1.4.2")
    assert compose_rules.plain_files(tmp_path) == ((app, overlay), True)
    assert discover.discover([str(tmp_path)]).model["services"]["api"]["image"] == "ghcr.io/acme/api:1.4.2"
