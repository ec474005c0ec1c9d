import json
import logging
from datetime import datetime, timezone

import pytest

from ops_checks import evidence
from procedures import redact as redact_module
from procedures.compose import register_model_secrets
from procedures.load import load_config
from procedures.identifiers import config_identifiers
from procedures.sets import names
from procedures.redact import (MASK, install_log_redaction, is_secret_name, redact, redact_argv, redact_data,
                               register_identifier, register_secret)

pytestmark = pytest.mark.unit

_PEM = ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0planted-pem-line-one\n"
        "planted-pem-line-two+/AbCdEf==\n-----END PRIVATE KEY-----\n")
# Secret shapes seen in the wild, each with the fragments that must never be shown or written;
# the report test plants the same list in every output of a check.
PLANTED_SHAPES = [
    ("rclone.conf obscured pass", "[gdrive-crypt]\ntype = crypt\npass = hB2xvWpl7Qz-planted-obscured\n",
     ["hB2xvWpl7Qz-planted-obscured"]),
    ("SMTP_PASS", "SMTP_PASS=smtp-planted-9931", ["smtp-planted-9931"]),
    ("DB_PWD", "DB_PWD=dbpwd-planted-4417", ["dbpwd-planted-4417"]),
    ("--pass flag", "restic --pass flag-planted-2288 snapshots", ["flag-planted-2288"]),
    ("Authorization: Basic", "Authorization: Basic dXNlcjpiYXNpYy1wbGFudGVk", ["dXNlcjpiYXNpYy1wbGFudGVk"]),
    ("Authorization: Bearer", "curl -H 'Authorization: Bearer eyJbearer.planted.7713' https://api.example/v1",
     ["eyJbearer.planted.7713"]),
    ("URL with an empty user", "redis://:redis-planted-5150@cache:6379/0", ["redis-planted-5150"]),
    ("URL with / in the password", "postgresql://zen:slash/planted-6021@db:5432/zen", ["planted-6021"]),
    ("URL with @ in the password", "amqp://zen:at@planted-7034@mq:5672/vhost", ["planted-7034"]),
    ("double-quoted value with spaces", 'PASSWORD="quoted planted-horse planted-battery"',
     ["planted-horse", "planted-battery"]),
    ("single-quoted value with spaces", "password: 'single planted-lark planted-wren'", ["planted-lark", "planted-wren"]),
    ("service-account private_key", json.dumps({"type": "service_account", "private_key": _PEM,
                                                "client_email": "ops@zen.iam.gserviceaccount.com"}),
     ["planted-pem-line-one", "planted-pem-line-two"]),
    ("SENTRY_DSN", "SENTRY_DSN=https://dsnkey-planted-8080@o1.ingest.sentry.io/42", ["dsnkey-planted-8080"]),
]


@pytest.mark.parametrize("text, leaked", [(text, leaked) for _, text, leaked in PLANTED_SHAPES],
                         ids=[name for name, _, _ in PLANTED_SHAPES])
def test_every_planted_shape_is_masked(text, leaked):
    redacted = redact(text)
    assert MASK in redacted
    for fragment in leaked:
        assert fragment not in redacted


@pytest.mark.parametrize("text, leaked", [
    ("POSTGRES_PASSWORD=abc123xyz", "abc123xyz"),
    ('{"access_token":"ya29.A0ARrdaM","expiry":"2026"}', "ya29.A0ARrdaM"),
    ('token = {"refresh_token": "1//0gLongRefresh"}', "1//0gLongRefresh"),
    ("postgresql://zenops:pa55word@db:5432/zenops", "pa55word"),
    ("password: hunter22", "hunter22"),
    ('{\\"refresh_token\\":\\"1//escaped\\"}', "1//escaped"),
    ("RCLONE_CONFIG_GDRIVE_CLIENT_SECRET=GOCSPX-abc", "GOCSPX-abc"),
])
def test_secret_shapes_are_masked(text, leaked):
    assert leaked not in redact(text)
    assert MASK in redact(text)


def test_registered_values_are_masked_anywhere():
    register_secret("plain-looking-value-77")
    assert redact("the value plain-looking-value-77 appears") == f"the value {MASK} appears"


def test_short_values_are_not_registered():
    register_secret("ab")
    assert redact("abc cab") == "abc cab"


def test_ordinary_text_is_kept():
    text = "pg_dump -Fc --file /backups/demo_zenops_20261124T010000Z.dump"
    assert redact(text) == text


def test_log_records_are_redacted_at_creation(caplog):
    install_log_redaction()
    register_secret("logged-secret-5521")
    with caplog.at_level(logging.INFO):
        logging.getLogger("ops.test").info("connecting with %s", "logged-secret-5521")
    assert "logged-secret-5521" not in caplog.text
    assert MASK in caplog.text


def test_the_argv_element_after_a_secret_flag_is_masked():
    assert redact_argv(["restic", "--pass", "argv-pass-4471", "--repo", "/backups", "--password-stdin", "-v"]) \
        == ["restic", "--pass", MASK, "--repo", "/backups", "--password-stdin", "-v"]


@pytest.mark.parametrize("text", [
    "3 passed, 1 failed in 2.1s; bypass: on",
    "http://db:5432/zen?notify=ops@zen.example",
    "compass.heading=north monkey=3",
])
def test_words_that_only_look_like_secret_names_are_kept(text):
    assert redact(text) == text


@pytest.mark.parametrize("name, secret", [
    ("SMTP_PASS", True), ("DB_PWD", True), ("MYSQL_PWD_FILE", True), ("SENTRY_DSN", True),
    ("POSTGRES_PASSWORD", True), ("GITHUB_TOKEN", True), ("SECRET_KEY", True), ("ENCRYPTION_KEY_B64", True),
    ("BASIC_AUTH", True), ("GPG_PASSPHRASE", True), ("GOOGLE_APPLICATION_CREDENTIALS", True),
    ("PWD", False), ("DATABASE_URL", False), ("BYPASS_CACHE", False), ("KEYCLOAK_REALM", False),
    # mastodon's db: `trust` is a kind of authentication, not a secret (nor a weak one)
    ("POSTGRES_HOST_AUTH_METHOD", False), ("AUTH_TYPE", False), ("LDAP_AUTH_MODE", False),
    ("OIDC_TOKEN_ENABLED", False), ("AUTH_TOKEN", True), ("PASSWORD_RESET_TOKEN", True),
])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_model_secrets_are_registered_by_name_and_from_url_credentials():
    register_model_secrets({"services": {"app": {"environment": {
        "SMTP_PASS": "model-smtp-pass-31", "DB_PWD": "model-db-pwd-32", "SENTRY_DSN": "model-dsn-value-33",
        "DATABASE_URL": "postgresql+psycopg2://zen:model%40url-pw-34@db/zen",
        "CACHE": "redis://:model-redis-pw-35@cache/0", "PWD": "/model-working-dir", "LANG": "C.UTF-8",
    }}}})
    text = ("model-smtp-pass-31 model-db-pwd-32 model-dsn-value-33 model@url-pw-34 model%40url-pw-34 "
            "model-redis-pw-35 /model-working-dir C.UTF-8")
    assert redact(text) == " ".join([MASK] * 6 + ["/model-working-dir", "C.UTF-8"])


# --- identities (issue 24 item 5): a short secret never breaks a name the suite validated -------------

@pytest.fixture(autouse=True)
def own_registry(monkeypatch):
    """Each test starts from an empty registry and its registrations are forgotten after it: the
    registry is process-wide, and a worker that ran other modules first holds their identifiers (an
    environment named `demo` would keep this module's secret `demo` from being masked)."""
    monkeypatch.setattr(redact_module, "_secrets", set())
    monkeypatch.setattr(redact_module, "_identifiers", set())


@pytest.mark.fault("a short secret that is part of a project, volume or set name")
def test_a_short_secret_is_masked_as_a_whole_word_only():
    """The reported case: database password `wger`, project app2wger, database wger."""
    register_secret("wger")
    assert redact("project app2wger, volume app2wger_pgdata, tag wger2, wgerx") == \
        "project app2wger, volume app2wger_pgdata, tag wger2, wgerx"
    assert redact("set app2wger.prod_wger_20261201T020000Z.dump") == "set app2wger.prod_wger_20261201T020000Z.dump"
    assert redact("login as wger failed: wger.") == f"login as {MASK} failed: {MASK}."
    assert redact('{"pw": "wger"}, \\nwger') == f'{{"pw": "{MASK}"}}, \\n{MASK}'


def test_a_long_secret_is_masked_inside_words_and_inside_identifiers():
    register_secret("app2wger-long-secret-81")
    register_identifier("app2wger")
    assert redact("x app2wger-long-secret-81y") == f"x {MASK}y"


def test_a_registered_identifier_is_never_masked_by_a_short_secret_it_contains():
    register_secret("shop")
    register_identifier("shop")  # a project named like its password: only the shapes still mask it
    assert redact("project shop, volume shop_data, /var/lib/opsuite/shop/releases.jsonl") == \
        "project shop, volume shop_data, /var/lib/opsuite/shop/releases.jsonl"
    assert redact("POSTGRES_PASSWORD=shop postgresql://u:shop@db/x") == f"POSTGRES_PASSWORD={MASK} postgresql://u:{MASK}@db/x"


def test_every_set_name_the_suite_builds_is_whole_whatever_short_secret_it_contains():
    register_secret("demo")
    name = names.set_name(names.Identity("demo", "demo", "demo"), datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))
    assert redact(f"kept {name}.manifest.json") == f"kept {name}.manifest.json"
    assert names.parse_set_name(name) is not None


def test_config_identifiers_cover_project_volumes_paths_remote_and_tag(tmp_path):
    (tmp_path / "a.yml").write_text("services: {}\n")
    config = tmp_path / "ops.toml"
    config.write_text('[stack]\nproject = "app2wger"\ncompose_files = ["a.yml"]\nenvironment = "prod"\n'
                      '[volumes]\ndatabase = "app2wger_db"\n[deploy]\nstate_dir = "/srv/state"\n')
    found = config_identifiers(load_config(config), "2.1.0")
    assert {"app2wger", "prod", "app2wger_db", "app2wger_backups", "/srv/state", "2.1.0",
            str(tmp_path / "a.yml"), "gdrive:ZenOpsBackups/prod"} <= set(found)


@pytest.mark.fault("a JSON field named key in the evidence")
def test_a_field_named_key_is_masked_by_its_value_not_its_name():
    register_secret("key-field-secret-5521")
    data = {"key": "uploads/ab/cdef.png", "label": {"key": "com.docker.compose.project", "value": "x"},
            "B2_KEY": "b2-by-name", "token": "by-name-too", "other": "key-field-secret-5521"}
    assert redact_data(data) == {"key": "uploads/ab/cdef.png",
                                 "label": {"key": "com.docker.compose.project", "value": "x"},
                                 "B2_KEY": MASK, "token": MASK, "other": MASK}


def test_evidence_titles_and_table_headers_are_redacted():
    register_secret("title-secret-7719")
    extras: list = []
    evidence.table(extras, "rows for title-secret-7719", [{"title-secret-7719": "v", "key": "kept"}])
    evidence.data(extras, "doc title-secret-7719", {"key": "kept", "title-secret-7719": 1})
    page = "".join(extra["content"] for extra in extras)
    assert "title-secret-7719" not in page and page.count(MASK) == 4
    assert "kept" in page and page.count("kept") == 2


def test_a_set_name_stays_whole_though_its_project_is_an_identifier_and_its_environment_the_secret():
    register_identifier("shop")
    register_secret("demo")
    name = "shop.demo_shop_20261201T020000Z"
    assert redact(f"restored {name}, env demo") == f"restored {name}, env {MASK}"


def test_a_secret_that_spells_a_secret_name_leaves_the_name_whole_so_the_value_beside_it_is_masked():
    # lemmy and hedgedoc ship POSTGRES_PASSWORD=password. Registered, it masked the key name itself, and the
    # value beside it (the history's `password=hunter22`) was shown. A fresh process: the registration is
    # global, and a registered "password" would mask the word in every later test's output.
    import subprocess
    import sys
    script = ("from procedures.redact import register_secret, redact; import json\n"
              "register_secret('password'); register_secret('PASSWORD'); register_secret('db-password-8812')\n"
              "print(json.dumps([redact('login failed password=hunter22'), redact('PASSWORD=\"a b\" x'),\n"
              "                  redact('--password hunter22'), redact('the password is password'),\n"
              "                  redact('login failed for db-password-8812: x')]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    # A secret that only contains a name's word is masked wherever it stands, a key's place included.
    assert json.loads(done.stdout) == ["login failed password=***", 'PASSWORD="***" x', "--password ***",
                                       "the *** is ***", "login failed for ***: x"]
