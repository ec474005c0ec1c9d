import logging

import pytest

from procedures.redact import MASK, install_log_redaction, redact, register_secret

pytestmark = pytest.mark.unit


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
