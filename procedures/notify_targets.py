"""Where notifications go: the Apprise URLs named by [notify], read from the stack's env file or a
secret file (never the config file, never argv), each checked to parse. A URL may hold a token, so no
message here ever quotes one: a bad entry is named by its key and position, a target by scheme and host."""

import ipaddress
import logging
import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from .env_file import env_value
from .errors import ConfigError
from .redact import register_secret, url_passwords

# A new URL starts after blanks or commas only where a scheme follows, so a comma inside one URL
# (mailto://...?to=a@x,b@y) stays in it.
_SEPARATOR = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HOST_NAME = re.compile(r"(?i)localhost|(?=.*\.)[a-z0-9-]+(?:\.[a-z0-9-]+)+")
# Parts of a URL shorter than this are left unmasked: "ping" or "hook" would mask ordinary words.
_SECRET_PART_LENGTH = 8


@contextmanager
def apprise_log(into: list[logging.LogRecord] | None = None) -> Iterator[None]:
    """While inside, Apprise's log records (which quote URLs) reach no handler but the list given."""
    logger = logging.getLogger("apprise")
    saved = logger.handlers[:], logger.propagate, logger.level

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if into is not None:
                into.append(record)

    logger.handlers, logger.propagate = [Keep(logging.WARNING)], False
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])


def load_apprise():
    """The apprise module, imported on first use: only a config with [notify] pays for its plugins."""
    with warnings.catch_warnings():  # its PGP support imports imghdr, deprecated: not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise
        from apprise.manager_plugins import NotificationManager

        NotificationManager().load_modules()  # the plugins load lazily, on first use: now, in here
    return apprise


def parse(url: str):
    """The Apprise plugin for url, or None when Apprise cannot parse it (nothing logged)."""
    apprise = load_apprise()
    with apprise_log():
        return apprise.Apprise.instantiate(url)


def shown(url: str) -> str:
    """scheme://host[:port] of url when its host is a network address; a chat service's "host" is
    often its token (slack://TokenA/..), so then only the scheme."""
    parts = urlsplit(url)
    host = _network_host(parts.hostname or "")
    if not host:
        return f"{parts.scheme}://(host not shown)"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def register_url_secrets(url: str) -> None:
    """Make every later redaction mask url and its secret-bearing parts (password, user, path
    segments, query values, a host that is not a network address)."""
    register_secret(url)
    for password in url_passwords(url):
        register_secret(password)
    parts = urlsplit(url)
    candidates = [parts.netloc.rpartition("@")[0], *parts.path.split("/"),
                  *(value for _, value in parse_qsl(parts.query, keep_blank_values=True))]
    if not _network_host(parts.hostname or ""):
        candidates.append(parts.netloc.rpartition("@")[2])
    for part in candidates:
        for value in {part, unquote(part)}:
            if len(value) >= _SECRET_PART_LENGTH:
                register_secret(value)


def read_urls(urls_variable: str, urls_file: str, env_file: Path | None) -> list[tuple[str, str]]:
    """(where, url) for every URL [notify] names, where being e.g. "urls_variable entry 2"; each URL is
    registered as a secret and checked to parse. Refuses a missing variable or file, a secret file others
    can read, no URL at all, and a URL Apprise cannot parse (by key and position, never the URL)."""
    found: list[tuple[str, str]] = []
    if urls_variable:
        found += [(f"[notify] urls_variable entry {i}", url)
                  for i, url in enumerate(_variable_urls(urls_variable, env_file), 1)]
    if urls_file:
        found += [(f"[notify] urls_file line {line}", url) for line, url in _file_urls(Path(urls_file))]
    for _, url in found:
        register_url_secrets(url)
    if not found:
        raise ConfigError("[notify] names no notification URL: set urls_variable (a variable of [stack] env_file) "
                          "and/or urls_file (a file only its owner can read), or remove [notify]")
    for where, url in found:
        if parse(url) is None:
            raise ConfigError(f"{where} is not a notification URL Apprise can parse (the URL is not shown: it may "
                              "hold a token); fix it after Apprise's URL syntax, e.g. json://host:port/path or "
                              "mailto://smtp.example.com?from=ops@example.com&to=oncall@example.com")
    return found


def _variable_urls(variable: str, env_file: Path | None) -> list[str]:
    if not _VARIABLE.fullmatch(variable):
        raise ConfigError(f"[notify] urls_variable = {variable!r} is not a variable name (e.g. \"NOTIFY_URLS\")")
    if env_file is None:
        raise ConfigError(f"[notify] urls_variable = {variable!r} needs [stack] env_file, the file that sets it; "
                          "set env_file, or use urls_file instead")
    value = env_value(Path(env_file), variable)
    if not value:
        raise ConfigError(f"[notify] urls_variable = {variable!r}: {env_file} does not set {variable}; add a line "
                          f"{variable}=json://host/path (several URLs separated by spaces or commas)")
    return [url for url in _SEPARATOR.split(value.strip(" \t,")) if url.strip(" \t,")]


def _file_urls(path: Path) -> list[tuple[int, str]]:
    try:
        mode = path.stat().st_mode
        lines = path.read_text().splitlines()
    except OSError as e:
        raise ConfigError(f"[notify] urls_file = {str(path)!r} cannot be read ({e.strerror}); create it with one "
                          "notification URL per line, mode 0600") from None
    if mode & stat.S_IROTH:
        raise ConfigError(f"[notify] urls_file = {str(path)!r} can be read by anyone (mode {stat.S_IMODE(mode):o}) "
                          f"and its URLs may hold tokens: chmod 600 {path}")
    return [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]



def _network_host(host: str) -> str:
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host if _HOST_NAME.fullmatch(host) else ""
