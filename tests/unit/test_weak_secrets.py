"""Discovery flags a secret too short to be masked inside other words (issue 24 item 5), never showing it."""

import pytest

from procedures.adopt.risks import find_risks
from procedures.adopt.roles import Roles

pytestmark = pytest.mark.unit


def model(environment: dict) -> dict:
    return {"services": {"db": {"image": "postgres:16", "restart": "always", "environment": environment,
                                "logging": {"options": {"max-size": "10m"}}}}}


def weak(environment: dict) -> list[str]:
    return [f"{r.what} | {r.fix}" for r in find_risks(model(environment), Roles()) if "weak secrets" in r.what]


def test_a_short_database_password_is_flagged_by_name_and_length_not_value():
    [risk] = weak({"POSTGRES_PASSWORD": "wger", "POSTGRES_USER": "wger", "SECRET_KEY": "abc1234"})
    assert "db POSTGRES_PASSWORD (4 characters)" in risk and "db SECRET_KEY (7 characters)" in risk
    assert "POSTGRES_USER" not in risk and "wger" not in risk and "abc1234" not in risk
    assert "openssl rand" in risk


def test_long_secrets_and_plain_settings_are_not_flagged():
    assert weak({"POSTGRES_PASSWORD": "a" * 8, "LANG": "C", "PWD": "/x"}) == []
