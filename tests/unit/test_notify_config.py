"""[notify] in the ops config: where the Apprise URLs are read from, each parsed when the config loads."""

import logging
from pathlib import Path

import pytest

from procedures.load import load_config
from procedures.errors import ConfigError
from procedures.env_file import env_value
from procedures.notify_targets import read_urls, shown

pytestmark = pytest.mark.unit
TOKEN = "TOKEN-IN-URL-8642"
STACK = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\nenv_file = ".env"\n'


def write(tmp_path: Path, notify: str, env: str = "") -> Path:
    """An ops config with the given [notify] body, beside a compose file and an env file."""
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / ".env").write_text(env)
    path = tmp_path / "ops.toml"
    path.write_text(STACK + notify)
    return path


def secret_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_no_notify_section_means_no_notifications():
    from procedures.config import OpsConfig, StackConfig
    assert OpsConfig(StackConfig("zen", ())).notify is None


def test_no_notify_section_reads_nothing(tmp_path):
    path = write(tmp_path, "", env=f"NOTIFY_URLS=not-a-url-{TOKEN}\n")
    assert load_config(path).notify is None


def test_urls_variable_holds_several_urls_separated_by_spaces_or_commas(tmp_path):
    env = ('NOTIFY_URLS="json://127.0.0.1:9/hook, mailto://smtp.example.test?from=ops@example.test&to=a@example.test,b@example.test '
           f'jsons://hooks.example.test/{TOKEN}"\n')
    path = write(tmp_path, '[notify]\nurls_variable = "NOTIFY_URLS"\n', env)
    config = load_config(path)
    assert (config.notify.urls_variable, config.notify.urls_file, config.notify.on_success) == ("NOTIFY_URLS", "", False)
    urls = read_urls("NOTIFY_URLS", "", tmp_path / ".env")
    assert [where for where, _ in urls] == [f"[notify] urls_variable entry {i}" for i in (1, 2, 3)]
    assert urls[1][1] == "mailto://smtp.example.test?from=ops@example.test&to=a@example.test,b@example.test"  # its comma stays


def test_urls_file_is_one_url_a_line_relative_to_the_config(tmp_path):
    secret_file(tmp_path / "notify.urls", f"# on-call\njson://127.0.0.1:9/{TOKEN}\n\nmailto://smtp.example.test?from=ops@example.test&to=x@example.test\n")
    path = write(tmp_path, '[notify]\nurls_file = "notify.urls"\non_success = true\n')
    config = load_config(path)
    assert config.notify.urls_file == str(tmp_path / "notify.urls") and config.notify.on_success is True
    assert [where for where, _ in read_urls("", config.notify.urls_file, None)] == \
        ["[notify] urls_file line 2", "[notify] urls_file line 4"]


@pytest.mark.parametrize("source, where", [("variable", "urls_variable entry 2"), ("file", "urls_file line 2")])
def test_a_url_that_does_not_parse_is_refused_naming_the_key_and_position_not_the_url(tmp_path, caplog, source, where):
    bad = f"nosuchscheme://{TOKEN}@example.test/x"
    if source == "variable":
        path = write(tmp_path, '[notify]\nurls_variable = "NOTIFY_URLS"\n', f"NOTIFY_URLS=json://127.0.0.1:9/ok,{bad}\n")
    else:
        secret_file(tmp_path / "urls", f"json://127.0.0.1:9/ok\n{bad}\n")
        path = write(tmp_path, '[notify]\nurls_file = "urls"\n')
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError, match=rf"\[notify\] {where} is not a notification URL Apprise can parse") as e:
        load_config(path)
    assert TOKEN not in str(e.value)
    assert TOKEN not in caplog.text and "nosuchscheme" not in caplog.text  # Apprise's own log quotes it


@pytest.mark.parametrize("notify, env, message", [
    ("", "", "names no notification URL"),
    ('urls_variable = "NOTIFY_URLS"\n', "OTHER=1\n", "does not set NOTIFY_URLS; add a line NOTIFY_URLS="),
    ('urls_variable = "NOTIFY_URLS"\n', "NOTIFY_URLS=\n", "does not set NOTIFY_URLS"),
    ('urls_variable = "notify urls"\n', "", "is not a variable name"),
    ('urls_file = "missing.urls"\n', "", "missing.urls' cannot be read"),
    ('on_success = "true"\nurls_variable = "U"\n', "U=json://127.0.0.1:9/x\n", r'on_success = "true": expected true or false \(without quotes\)'),
    ('urls = ["json://127.0.0.1:9/x"]\n', "", r"\[notify\] urls is not a setting of \[notify\]: did you mean urls_file\?"),
])
def test_bad_notify_settings_are_refused_naming_the_key(tmp_path, notify, env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, "[notify]\n" + notify, env))


def test_urls_variable_needs_the_stacks_env_file(tmp_path):
    (tmp_path / "a.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[notify]\nurls_variable = "NOTIFY_URLS"\n')
    with pytest.raises(ConfigError, match=r"urls_variable = 'NOTIFY_URLS' needs \[stack\] env_file"):
        load_config(path)


def test_a_urls_file_others_can_read_is_refused(tmp_path):
    secret_file(tmp_path / "urls", f"json://127.0.0.1:9/{TOKEN}\n", mode=0o644)
    with pytest.raises(ConfigError, match=r"can be read by anyone \(mode 644\).*chmod 600") as e:
        load_config(write(tmp_path, '[notify]\nurls_file = "urls"\n'))
    assert TOKEN not in str(e.value)


def test_env_value_reads_compose_env_lines_as_data(tmp_path):
    env = tmp_path / ".env"
    env.write_text("# NOTIFY_URLS=json://commented\nexport A='json://x/1 json://x/2'\nB=json://x/3 # inline\n"
                   'C="json://x/4#frag"\nD=$(touch /tmp/never)\n')
    assert [env_value(env, k) for k in "ABCDE"] == ["json://x/1 json://x/2", "json://x/3", "json://x/4#frag",
                                                     "$(touch /tmp/never)", ""]


@pytest.mark.parametrize("url, expected", [
    ("json://ops:pw@127.0.0.1:8080/hook/token", "json://127.0.0.1:8080"),
    ("mailto://user:pw@smtp.example.com?to=a@example.com", "mailto://smtp.example.com"),
    ("jsons://[::1]:8443/x", "jsons://::1:8443"),
    ("slack://TokenA/TokenB/TokenC", "slack://(host not shown)"),  # a chat service's "host" is its token
    ("tgram://123456789:AAbbCC/chat", "tgram://(host not shown)"),
])
def test_a_target_is_shown_by_scheme_and_network_host_only(url, expected):
    assert shown(url) == expected
