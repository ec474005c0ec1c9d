"""The offsite set-up's pure parts: its config, where secrets come from, and how rclone.conf is merged."""

import os

import pytest

from procedures.backup.offsite_setup import SetupRun, merged_config, read_secrets, wanted_variables
from procedures.load import load_config
from procedures.context import prepared_context
from procedures.errors import ConfigError
from procedures.redact import redact

pytestmark = pytest.mark.unit

STACK = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\nenv_file = ".env"\n'
DRIVE = ('[offsite]\nremote = "gdrive-crypt:Zen"\n[offsite_setup]\nbackend = "drive"\nbase_remote = "gdrive"\n'
         'options = { scope = "drive.file" }\nsecret_options = { token = "GDRIVE_TOKEN" }\n')


def config_of(tmp_path, body: str, env: str = ""):
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / ".env").write_text(env)
    (tmp_path / "ops.toml").write_text(STACK + body)
    return load_config(tmp_path / "ops.toml")


def test_a_drive_set_up_loads_with_its_crypt_password_variable(tmp_path):
    config = config_of(tmp_path, DRIVE)
    assert config.offsite_setup.backend == "drive"
    assert wanted_variables(config) == {"token": "GDRIVE_TOKEN", "password": "OFFSITE_CRYPT_PASSWORD"}


def test_plaintext_copies_need_no_crypt_password(tmp_path):
    config = config_of(tmp_path, '[offsite]\nremote = "box:Zen"\nplaintext = true\n[offsite_setup]\n'
                                 'backend = "sftp"\nbase_remote = "box"\nsecret_options = { pass = "BOX_PASS" }\n')
    assert wanted_variables(config) == {"pass": "BOX_PASS"}


@pytest.mark.parametrize("body, names", [
    ('[offsite]\nremote = "gdrive:Zen"\n[offsite_setup]\nbackend = "drive"\n', "names base_remote itself"),
    ('[offsite]\nremote = "box:Zen"\nplaintext = true\n[offsite_setup]\nbackend = "sftp"\n', 'set base_remote = .box.'),
    (DRIVE.replace('"GDRIVE_TOKEN"', '"ya29.a0-secret token"'), r"\[offsite_setup\] secret_options.token = .*: expected the name of a variable of the secrets file"),
    (DRIVE.replace('crypt:Zen"\n[offsite_setup]\n', 'crypt:Zen"\n[offsite_setup]\ncrypt_password = "hunter2!"\n'),
     r"\[offsite_setup\] crypt_password = .*: expected the name of a variable"),
    (DRIVE.replace('{ scope = "drive.file" }', '{ scope = 3 }'), r"\[offsite_setup\] options.scope = 3: expected a string in quotes"),
    (DRIVE + 'tokens = "X"\n', r"\[offsite_setup\] tokens is not a setting of \[offsite_setup\]"),
])
def test_a_wrong_set_up_is_refused_naming_the_fix(tmp_path, body, names):
    with pytest.raises(ConfigError, match=names):
        config_of(tmp_path, body)


def test_secrets_are_read_from_the_env_file_and_never_shown(tmp_path):
    config = config_of(tmp_path, DRIVE, 'GDRIVE_TOKEN={"access_token":"ya29.tok"}\nOFFSITE_CRYPT_PASSWORD="long crypt pw"\n')
    run = SetupRun(prepared_context(config))
    evidence = read_secrets(run)
    assert evidence["variables"] == ["GDRIVE_TOKEN", "OFFSITE_CRYPT_PASSWORD"]
    assert run.secrets["OFFSITE_CRYPT_PASSWORD"] == "long crypt pw"
    assert "long crypt pw" not in redact("the password is long crypt pw")


def test_a_missing_variable_is_named_with_what_it_is_for(tmp_path):
    config = config_of(tmp_path, DRIVE, "OFFSITE_CRYPT_PASSWORD=long-crypt-pw\n")
    with pytest.raises(ConfigError, match=r"does not set GDRIVE_TOKEN \(for token\)"):
        read_secrets(SetupRun(prepared_context(config)))


def test_a_secrets_file_others_can_read_is_refused(tmp_path):
    secrets = tmp_path / "offsite.env"
    secrets.write_text("GDRIVE_TOKEN=t0ken-value\nOFFSITE_CRYPT_PASSWORD=long-crypt-pw\n")
    os.chmod(secrets, 0o644)
    config = config_of(tmp_path, DRIVE + f'secrets_file = "{secrets.name}"\n')
    with pytest.raises(ConfigError, match=f"chmod 600 {secrets}"):
        read_secrets(SetupRun(prepared_context(config)))
    os.chmod(secrets, 0o600)
    assert read_secrets(SetupRun(prepared_context(config)))["secrets file"] == str(secrets)


def test_the_merge_adds_missing_remotes_and_never_changes_one_that_exists():
    existing = "[gdrive]\ntype = drive\ntoken = {\"access_token\":\"old\"}\n\n[other]\ntype = local\n"
    text, added, kept = merged_config(existing, {
        "gdrive": {"type": "drive", "token": "new"},
        "gdrive-crypt": {"type": "crypt", "remote": "gdrive:encrypted", "password": "obscured"}})
    assert (added, kept) == (["gdrive-crypt"], ["gdrive"])
    assert 'token = {"access_token":"old"}' in text and "token = new" not in text
    assert "[other]" in text and "remote = gdrive:encrypted" in text
