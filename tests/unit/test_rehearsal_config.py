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
    ('[deploy.rehearsal]\nenvironment = { JOBS_ENABLED = false }\n', r'JOBS_ENABLED must be a string in quotes \(e.g. JOBS_ENABLED = "false"\)'),
    ('[deploy.rehearsal]\nenvironment = { "JOBS-ON" = "0" }\n', "'JOBS-ON' is not a variable name"),
    ('[deploy.rehearsal]\nenvironment = ["JOBS=0"]\n', "must be a table of variables"),
    ('[deploy.rehearsal]\nenv = { JOBS = "0" }\n', r"\[deploy.rehearsal\] has unknown setting\(s\) \['env'\]"),
    ('[deploy]\nrehearsal = "jobs off"\n', r"\[deploy\] rehearsal must be a table"),
    ('[deploy.rehearsal]\nenvironment = { DATABASE_URL = "postgresql://live/db" }\n',
     "sets DATABASE_URL, the database's address, which the rehearsal sets itself"),
])
def test_a_bad_rehearsal_environment_names_the_setting_and_the_fix(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, body))
