import os
import subprocess
import sys
from pathlib import Path

import pytest

from procedures.load import load_config
from procedures.errors import ConfigError

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, body: str) -> Path:
    (tmp_path / "a.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text(body)
    return path


def test_bundled_example_config_loads():
    (ROOT / "example" / ".env").exists() or pytest.fail("run scripts/bootstrap.sh first: example/.env missing")
    config = load_config(ROOT / "ops.toml")
    assert config.stack.project == "zenops-example"
    assert config.stack.compose_files[1] == ROOT / "docker-compose.prod.yml"
    assert config.services.app == ("api", "email-worker")
    assert config.volumes.database == "zenops-example_pgdata"


def test_defaults_follow_the_brief(tmp_path):
    config = load_config(write(tmp_path, '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n'))
    assert config.services.database == "db"
    assert config.http.ready_path == "/readyz"
    assert config.database.engine == "postgres"
    assert config.stack.environment == "prod"


def test_overrides_win(tmp_path):
    path = write(tmp_path, '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n')
    config = load_config(path, **{"stack.project": "other", "http.base_url": "http://127.0.0.1:9"})
    assert (config.stack.project, config.http.base_url) == ("other", "http://127.0.0.1:9")


@pytest.mark.parametrize("body, message", [
    ('[stack]\nproject = "zen"\n', "needs project and compose_files"),
    ('[stack]\nproject = "Zen Ops"\ncompose_files = ["a.yml"]\n', "not a valid compose project name"),
    ('[stack]\nproject = "zen"\ncompose_files = ["missing.yml"]\n', "missing.yml does not exist"),
    ('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\nenv_file = "nope.env"\n', "create it"),
    ('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[database]\nengine = "mysql"\n', "not supported yet"),
    ('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[services]\ndatabse = "db"\n', "unknown setting"),
    ('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[extra]\n', "unknown section"),
    ('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[http]\nbase_url = "localhost"\n', "must start with http"),
    ('[stack\n', "not valid TOML"),
    ('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[backup]\nuploads_store = "false"\n',
     r"\[backup\] uploads_store = 'false' must be true or false \(without quotes\)"),
    ('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[offsite]\nplaintext = 1\n', "must be true or false"),
    ('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[volumes]\nuploads = false\n',
     r"\[volumes\] uploads = False must be a string in quotes"),
])
def test_bad_config_names_the_setting_and_fix(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, body))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="--ops-config"):
        load_config(tmp_path / "ops.toml")


@pytest.mark.parametrize("body, message", [
    ("[backup]\nlocal_keep_days = 13\n", "keep 14 to 30 days"),
    ("[backup]\nlocal_keep_days = 31\n", "keep 14 to 30 days"),
    ("[offsite]\nkeep_days = 0\n", "at least 1"),
    ('[offsite]\nremote = "ZenOpsBackups"\n', "remote name, colon, folder"),
    ("[offsite]\nretries = 0\n", r"\[offsite\] retries = 0: must be at least 1"),
    ("[offsite]\nlow_level_retries = 0\n", r"low_level_retries = 0: must be at least 1 \(rclone's default is 10\)"),
])
def test_bad_retention_settings_are_refused(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n' + body))


def test_rclone_retries_reach_the_backup_service_as_rclone_environment(tmp_path):
    config = load_config(write(tmp_path, '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n'
                                         '[offsite]\nretries = 5\n'))
    assert config.offsite.rclone_environment() == {"RCLONE_RETRIES": "5", "RCLONE_LOW_LEVEL_RETRIES": "10"}


def test_offsite_path_is_remote_then_environment(tmp_path):
    config = load_config(write(tmp_path, '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\nenvironment = "prod"\n'))
    assert config.offsite.path(config.stack.environment) == "gdrive:ZenOpsBackups/prod"
    assert (config.backup.local_keep_days, config.offsite.keep_days) == (14, 30)


def test_compose_files_and_smoke_checks_can_be_overridden(tmp_path):
    path = write(tmp_path, '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n')
    other = tmp_path / "b.yml"
    other.write_text("services: {}\n")
    config = load_config(path, **{"stack.compose_files": [str(other)],
                                  "deploy.smoke": [{"path": "/notes", "status": 200, "contains": ""}]})
    assert config.stack.compose_files == (other,)
    assert [(c.path, c.status) for c in config.deploy.smoke] == [("/notes", 200)]


def test_smoke_paths_must_be_absolute(tmp_path):
    body = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[[deploy.smoke]]\npath = "notes"\n'
    with pytest.raises(ConfigError, match="must start with '/'"):
        load_config(write(tmp_path, body))


def test_database_volume_cannot_use_the_throwaway_prefix(tmp_path):
    body = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[volumes]\ndatabase = "opsuite-restore-db"\n'
    with pytest.raises(ConfigError, match="reserved for restore-drill volumes"):
        load_config(write(tmp_path, body))


def test_the_suite_backup_service_carries_the_reserved_prefix(tmp_path):
    body = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[services]\nbackup = "backup"\n'
    with pytest.raises(ConfigError, match="reserved prefix 'opsuite-'.*opsuite-backup"):
        load_config(write(tmp_path, body))
    assert load_config(write(tmp_path, body.replace('"backup"', '"opsuite-backup"'))).services.backup == "opsuite-backup"


def test_migrations_need_a_service_or_a_command(tmp_path):
    body = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[services]\nmigrate = ""\n'
    assert load_config(write(tmp_path, body)).deploy.migrate_command == ("alembic", "upgrade", "head")
    with pytest.raises(ConfigError, match="migrate is empty and .*migrate_command too"):
        load_config(write(tmp_path, body + "[deploy]\nmigrate_command = []\n"))


def _first_step_output(tmp_path, *args, env=None):
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "pytest", "ops_checks/stack_health.py", "-p", "no:cacheprovider",
                           f"--html={tmp_path / 'report.html'}", "-x", *args], cwd=root, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})
    assert done.returncode == 4, "a config that cannot be read is refused before the first step (usage error)"
    return done.stderr  # the refusal, first on stderr


def test_opsuite_config_names_the_config_of_a_scheduled_run(tmp_path):
    """/etc/opsuite/opsuite.env's OPSUITE_CONFIG picks an adopted stack's config; --ops-config still wins."""
    from_env = _first_step_output(tmp_path, env={"OPSUITE_CONFIG": "/srv/adopted/ops.toml"})
    assert "config file /srv/adopted/ops.toml not found" in from_env
    from_option = _first_step_output(tmp_path, "--ops-config=/srv/other/ops.toml",
                                     env={"OPSUITE_CONFIG": "/srv/adopted/ops.toml"})
    assert "config file /srv/other/ops.toml not found" in from_option


TIMEOUTS_BASE = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n'


@pytest.fixture
def default_limits():
    """A prepared context of a config sets the runner's limits; put the defaults back for the next test."""
    from procedures import runner
    from procedures.config import TimeoutsConfig
    yield
    runner.use_timeouts(TimeoutsConfig())


def test_timeouts_have_documented_defaults(tmp_path, default_limits):
    timeouts = load_config(write(tmp_path, TIMEOUTS_BASE)).timeouts
    assert (timeouts.command_seconds, timeouts.dump_seconds, timeouts.restore_seconds) == (600, 21600, 21600)
    assert (timeouts.compose_up_seconds, timeouts.one_off_seconds, timeouts.pg_lock_wait_seconds) == (900, 3600, 60)
    assert timeouts.session_seconds >= timeouts.dump_seconds


def test_timeouts_are_read_and_become_the_runners_limits(tmp_path, default_limits):
    from procedures import runner
    from procedures.context import prepared_context
    config = load_config(write(tmp_path, TIMEOUTS_BASE + "[timeouts]\ncommand_seconds = 30\npg_lock_wait_seconds = 5\n"))
    assert (config.timeouts.command_seconds, config.timeouts.pg_lock_wait_seconds) == (30, 5)
    prepared_context(config)
    assert runner.limit_of("command") == runner.Limit(30, "command_seconds")


@pytest.mark.parametrize("setting, message", [
    ("command_seconds = 0", r"command_seconds = 0 must be a number of seconds above 0 \(default 600"),
    ('dump_seconds = "1h"', "dump_seconds = '1h' must be a number of seconds"),
    ("pg_lock_wait_seconds = 1.5", "pg_lock_wait_seconds = 1.5 must be whole seconds"),
    ("dump_seconds = 90000", "session_seconds = 22200 is below dump_seconds = 90000.*raise session_seconds"),
    ("pull_seconds = 60", "unknown setting"),
])
def test_bad_timeouts_name_the_setting_and_fix(tmp_path, setting, message, default_limits):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, TIMEOUTS_BASE + f"[timeouts]\n{setting}\n"))


URL_STACK = ('[stack]\nproject = "zak"\ncompose_files = ["a.yml"]\n[services]\ndatabase = ""\napp = ["backend", "worker"]\n'
             'proxy = ""\nmigrate = ""\n[volumes]\ndatabase = ""\n')


@pytest.mark.parametrize("body, message", [
    ('[database]\nengine = "postgres-url"\n', r"\[services\] database = 'db', but .*postgres-url.*set \[services\] database = \"\""),
    ('[database]\nengine = "postgres-url"\nurl_service = "proxy"\n', "is not one of \\[services\\] app"),
    ('[database]\nengine = "postgres-url"\nserver_image = "postgres:15"\n', "must carry \\{major\\}"),
    ('[database]\nengine = "postgres-url"\nurl_variable = "DATABASE URL"\n', "is not a variable name"),
])
def test_a_database_outside_the_stack_is_configured_without_a_service_or_volume(tmp_path, body, message):
    text = body if "url_service" in body or "server_image" in body or "url_variable" in body else ""
    base = URL_STACK if text else '[stack]\nproject = "zak"\ncompose_files = ["a.yml"]\n'
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, base + body))


def test_the_url_engine_defaults_to_the_first_app_service_and_the_stack_env_file(tmp_path):
    (tmp_path / "app.env").write_text("DATABASE_URL=postgresql://u:p@h/d\n")
    config = load_config(write(tmp_path, URL_STACK.replace('[services]', 'env_file = "app.env"\n[services]')
                               + '[database]\nengine = "postgres-url"\n'))
    assert (config.url_service, config.url_file) == ("backend", tmp_path / "app.env")
    assert config.services.serving == ["backend", "worker"], "no proxy: a release switch recreates the app only"



@pytest.mark.parametrize("body, message", [
    ('[services]\ndatabase = "db"\n[database]\nengine = "sqlite"\nfile = "/app/data/app.db"\n',
     r"\[services\] database = 'db', but \[database\] engine = \"sqlite\""),
    ('[services]\ndatabase = ""\n[database]\nengine = "sqlite"\n', r"\[database\] file = '': give the SQLite file's absolute path"),
    ('[services]\ndatabase = ""\n[database]\nengine = "sqlite"\nfile = "data/app.db"\n', "absolute path"),
    ('[services]\ndatabase = ""\n[volumes]\ndatabase = ""\n[database]\nengine = "sqlite"\nfile = "/a/b.db"\n',
     r"\[volumes\] database must name"),
])
def test_a_sqlite_database_names_its_file_and_volume_and_no_service(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, '[stack]\nproject = "lf"\ncompose_files = ["a.yml"]\n' + body))
