"""A Postgres reached by a URL (ZakOps' DATABASE_URL): read by libpq's own parser and handed to the
client tools as libpq's environment variables, so the password never appears in an argv.

libpq parses the URL (psycopg's `conninfo_to_dict` calls PQconninfoParse): percent-decoding, the
query parameters libpq knows, and a refusal of the ones it does not are the real client's. What it
leaves to the connection attempt and this module checks first: a scheme with a driver suffix
(`postgresql+psycopg2://`, which SQLAlchemy apps use), a password, a host, a database, and an
`sslmode` libpq accepts. Every error names the variable to fix and never shows the password.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict

from ..errors import ConfigError
from ..redact import register_secret, url_passwords

SCHEMES = ("postgresql", "postgres")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_DRIVER_SUFFIX = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9.-]*)\+[A-Za-z0-9_.-]+://")

# libpq's environment variable for each connection keyword (PostgreSQL docs, "Environment Variables").
ENVIRONMENT_OF = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
    "password": "PGPASSWORD", "passfile": "PGPASSFILE", "channel_binding": "PGCHANNELBINDING",
    "service": "PGSERVICE", "options": "PGOPTIONS", "application_name": "PGAPPNAME", "sslmode": "PGSSLMODE",
    "sslcompression": "PGSSLCOMPRESSION", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT", "sslcrl": "PGSSLCRL", "sslcrldir": "PGSSLCRLDIR", "sslsni": "PGSSLSNI",
    "requirepeer": "PGREQUIREPEER", "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION", "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB", "connect_timeout": "PGCONNECT_TIMEOUT",
    "client_encoding": "PGCLIENTENCODING", "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
}


@dataclass(frozen=True)
class DatabaseUrl:
    """One parsed URL: where it came from, the text as written, and libpq's keywords."""

    variable: str
    text: str
    keywords: dict[str, str]

    def environment(self) -> dict[str, str]:
        """libpq's variables for pg_dump, psql and pg_restore (the password among them, never in argv)."""
        return {ENVIRONMENT_OF[key]: value for key, value in sorted(self.keywords.items())}

    def describe(self) -> str:
        """host:port/database as user (sslmode): for messages and evidence; no password."""
        k = self.keywords
        ssl = f", sslmode={k['sslmode']}" if "sslmode" in k else ""
        return f"{k.get('user')}@{k.get('host')}:{k.get('port', '5432')}/{k.get('dbname')}{ssl}"

    def with_database(self, name: str) -> str:
        """The same URL as written (driver suffix, parameters and all) naming another database on the
        same server: what a disaster restore puts into the env file."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"{name!r} is not a database name a URL can carry plainly; use letters, digits, '_'")
        parts = urlsplit(self.text)
        return urlunsplit(parts._replace(path=f"/{name}"))


def _libpq_form(text: str) -> str:
    """The URL with a driver suffix dropped (postgresql+psycopg2:// -> postgresql://)."""
    match = _DRIVER_SUFFIX.match(text)
    return f"{match['scheme']}://{text[match.end():]}" if match else text


def parse(text: str | None, variable: str) -> DatabaseUrl:
    """Parse the URL in `variable`; refuse, naming the variable, anything a backup could not connect with."""
    if not text:
        raise ConfigError(f"{variable} is empty or not set in the app's environment; set it to the database's "
                          "URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)")
    libpq = _libpq_form(text.strip())
    scheme = libpq.split("://", 1)[0] if "://" in libpq else ""
    if scheme not in SCHEMES:
        raise ConfigError(f"{variable} is not a Postgres URL: it must start with postgresql:// or postgres:// "
                          f"(a driver suffix such as postgresql+psycopg2:// is fine); it starts with {scheme!r}")
    try:
        keywords = conninfo_to_dict(libpq)
    except ProgrammingError as e:
        raise ConfigError(f"{variable} cannot be read as a Postgres URL: {_without_password(str(e), libpq)}; "
                          "fix the URL in the env file") from None
    for password in {keywords.get("password"), *url_passwords(text)}:  # decoded and as written
        register_secret(password)
    for required, hint in (("password", "USER:PASSWORD@ (percent-encode '@', '/' and ':' in the password)"),
                           ("host", "@HOST:PORT"), ("dbname", "/DATABASE at the end")):
        if not keywords.get(required):
            raise ConfigError(f"{variable} has no {required}: give it as {hint}")
    sslmode = keywords.get("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        raise ConfigError(f"{variable} has sslmode={sslmode!r}; libpq accepts {', '.join(SSLMODES)}")
    unknown = sorted(set(keywords) - set(ENVIRONMENT_OF))
    if unknown:
        raise ConfigError(f"{variable} carries {unknown}, which libpq's tools cannot take from the environment; "
                          "drop them from the URL")
    return DatabaseUrl(variable, text.strip(), dict(keywords))


def _without_password(message: str, url: str) -> str:
    password = urlsplit(url).password
    return message.replace(password, "***") if password else message
