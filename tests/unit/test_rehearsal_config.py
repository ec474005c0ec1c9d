"""[deploy.rehearsal] environment: the variables the rollback check's sealed rehearsal runs with."""

import pytest

from procedures.load import load_config
from procedures.errors import ConfigError

pytestmark = pytest.mark.unit
STACK = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n'


def write(tmp_path, body: str):
    (tmp_path / "a.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text(STACK + body)
    return path


def test_the_rehearsal_environment_is_a_table_of_variables(tmp_path):
    config = load_config(write(tmp_path, '[deploy.rehearsal]\nenvironment = { JOBS_ENABLED = "false", SMTP_HOST = "" }\n'))
    assert config.deploy.rehearsal.environment == (("JOBS_ENABLED", "false"), ("SMTP_HOST", ""))
    assert load_config(write(tmp_path, "")).deploy.rehearsal.environment == ()


@pytest.mark.parametrize("body, message", [
    ('[deploy.rehearsal]\nenvironment = { JOBS_ENABLED = false }\n', r"\[deploy.rehearsal\] environment.JOBS_ENABLED = false: expected a string in quotes"),
    ('[deploy.rehearsal]\nenvironment = { "JOBS-ON" = "0" }\n', r'environment has the key "JOBS-ON": expected a variable name'),
    ('[deploy.rehearsal]\nenvironment = ["JOBS=0"]\n', r'environment = \["JOBS=0"\]: expected a table'),
    ('[deploy.rehearsal]\nenv = { JOBS = "0" }\n', r"\[deploy.rehearsal\] env is not a setting of \[deploy.rehearsal\]: remove it; the known ones are environment"),
    ('[deploy]\nrehearsal = "jobs off"\n', r'\[deploy.rehearsal\] = "jobs off": expected a table of settings'),
    ('[deploy.rehearsal]\nenvironment = { DATABASE_URL = "postgresql://live/db" }\n',
     "sets DATABASE_URL, the database's address, which the rehearsal sets itself"),
])
def test_a_bad_rehearsal_environment_names_the_setting_and_the_fix(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, body))
