"""DATABASE_URL as libpq reads it: driver suffixes, parameters as libpq's environment, clear refusals
that name the variable and never show the password."""

import pytest

from procedures.engines import database_url
from procedures.errors import ConfigError
from procedures.redact import redact

pytestmark = pytest.mark.unit

URL = "postgresql+psycopg2://zak%40ops:s3cr%2Ft%3Apass@db.example.test:6543/zakops?sslmode=require&application_name=zakops"


def test_a_url_with_a_driver_suffix_becomes_libpqs_environment():
    parsed = database_url.parse(URL, "DATABASE_URL")
    assert parsed.environment() == {
        "PGAPPNAME": "zakops", "PGDATABASE": "zakops", "PGHOST": "db.example.test", "PGPASSWORD": "s3cr/t:pass",
        "PGPORT": "6543", "PGSSLMODE": "require", "PGUSER": "zak@ops"}
    assert parsed.describe() == "zak@ops@db.example.test:6543/zakops, sslmode=require"
    assert "s3cr" not in parsed.describe()


def test_the_password_is_redacted_as_written_and_decoded():
    database_url.parse(URL, "DATABASE_URL")
    assert "s3cr" not in redact(f"PGPASSWORD=s3cr/t:pass url={URL} raw s3cr%2Ft%3Apass")


def test_another_database_on_the_same_server_keeps_the_url_as_written():
    parsed = database_url.parse(URL, "DATABASE_URL")
    assert parsed.with_database("zakops_restored_20261127") == URL.replace("/zakops?", "/zakops_restored_20261127?")
    with pytest.raises(ConfigError, match="not a database name"):
        parsed.with_database("x; drop")


@pytest.mark.parametrize("text, message", [
    ("", "DATABASE_URL is empty or not set"),
    ("mysql://u:p@h/d", "not a Postgres URL.*'mysql'"),
    ("postgresql://zak@db.example.test/zakops", "DATABASE_URL has no password"),
    ("postgresql://zak:pw@/zakops", "DATABASE_URL has no host"),
    ("postgresql://zak:pw@db.example.test", "DATABASE_URL has no dbname"),
    ("postgresql://zak:pw@db.example.test/zakops?sslmode=required", "sslmode='required'; libpq accepts disable"),
    ("postgresql://zak:hunter22@db.example.test/zakops?nonsense=1", "cannot be read as a Postgres URL.*nonsense"),
])
def test_bad_urls_are_refused_naming_the_variable_and_hiding_the_password(text, message):
    with pytest.raises(ConfigError, match=message) as refused:
        database_url.parse(text, "DATABASE_URL")
    assert "hunter22" not in str(refused.value) and "pw@" not in str(refused.value)
