"""One redactor for everything the suite shows or writes (logs, errors, reports, records, the ledger):
known secret values and secret-shaped text; and the private files that output goes to (0600 in 0700).

Identifiers the suite validates and builds (project, environment, volume and set names, tags, the
paths it writes) are never masked by a known secret's value: a short database password (`wger`)
inside a project name (`app2wger`) must leave the name whole, or records stop naming their stack.
A secret shorter than SHORT_SECRET_LENGTH is masked only as a whole word for the same reason.
"""

import logging
import re
import threading
from urllib.parse import unquote

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words
SHORT_SECRET_LENGTH = 8  # below it a value is masked as a whole word only, never inside another word

# A name that holds a secret: one of these words anywhere in it, or one of the short ones as a whole
# part of it (SMTP_PASS, db.pw, SENTRY_DSN, B2_KEY, BASIC_AUTH; never "bypass", "passed" or "monkey").
_WORDS = r"password|passwd|passphrase|secret|token|credential|pwd|apikey|accesskey|privatekey|authorization"
_PARTS = r"pass|pw|auth|dsn|key"
_KEYWORD = re.compile(rf"(?i)(?:{_WORDS}|{_PARTS})")  # a secret name's word alone
_NAME = rf"[\w.-]*?(?:{_WORDS})[\w.-]*|(?:[\w.-]*[_.-])?(?:{_PARTS})(?:[_.-][\w.-]*)?"
_VALUE = (r"(?P<value>\\\"(?:(?!\\\").)*\\\""  # \"value\" inside an escaped JSON string
          r"|\"(?:[^\"\\\n]|\\.)*\""  # "value", spaces and \n escapes (a PEM in JSON) included
          r"|'[^'\n]*'"
          r"|\\?[\"']?[^\s\"\\]+)")  # bare, or a quote that never closes
_AUTH_SCHEME = r"(?P<scheme>(?:basic|bearer|digest|token|negotiate)\s+)?"

_PRIVATE_KEY = re.compile(r"-----BEGIN[A-Z ]*PRIVATE KEY-----.*?(?:-----END[A-Z ]*PRIVATE KEY-----|\Z)", re.S)
# scheme://user:password@host; the user may be empty, the password may hold / or @ (the last @ ends
# it); not host:port/path. The bound keeps a line of many URLs linear.
_URL_CREDENTIALS = re.compile(
    r"(?i)(?<![a-z0-9+.-])(?P<head>[a-z][a-z0-9+.-]*+://[^\s:/@\"']*+:)(?!\d{1,5}/)(?P<password>[^\s\"]{0,1024})@")
_WORD_START = r"(?:(?<![\w.-])|(?<=\\[nrt]))"  # a \n escape (a repr, a JSON string) ends the word before
# A whole word that is a secret name, taken at once: trying each split of a long word is quadratic.
_SECRET_WORD = rf"(?=(?:{_NAME})(?![\w.-]))[\w.-]++"
_NAMED = re.compile(rf"(?i)(?P<key>{_WORD_START}{_SECRET_WORD})(?P<sep>(?:\\?[\"'])?\s*[=:]\s*){_AUTH_SCHEME}{_VALUE}")
_FLAG = re.compile(rf"(?i)(?P<key>{_WORD_START}--{_SECRET_WORD})(?P<sep>\s+)(?!-){_AUTH_SCHEME}{_VALUE}")

# Basic/Bearer credentials whose header name is gone (a traceback truncates long reprs in the middle)
_HTTP_CREDENTIALS = re.compile(r"\b(?P<scheme>Basic|Bearer)\s+(?=[\w.~+/-]*[\d+/=])[\w.~+/-]{8,}=*")

# A backup set name (procedures/sets/names.py): <project>.<env>_<database>_<stamp>, validated parts.
_SET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.[A-Za-z0-9-]+_[A-Za-z0-9-]+_[0-9]{8}T[0-9]{6}Z")
# A word ends at anything but a letter, digit, '_' or '-'; a '.' ends it unless a word goes on after it.
_WORD_BEFORE = r"(?:(?<![\w.-])|(?<=\\[nrt]))"  # as _WORD_START: a \n escape ends the word before
_WORD_AFTER = r"(?![\w-]|\.\w)"

_lock = threading.Lock()
_secrets: set[str] = set()
_identifiers: set[str] = set()
_compiled: dict = {}  # (secrets, identifiers) -> their patterns, rebuilt when either set changes


# A name ending in one of these words names a kind of setting, not a secret: POSTGRES_HOST_AUTH_METHOD
# (mastodon's compose file) holds `trust`, AUTH_TYPE `basic`.
_SETTING_KIND = re.compile(r"(?i).*[_.-](?:method|mode|type|enabled|disabled|provider|backend|scheme|mechanism)")


def is_secret_name(name: str) -> bool:
    """True for a variable or key name that holds a secret (PWD alone is the shell's directory; a name
    ending in METHOD, MODE, TYPE, ... names a kind of setting)."""
    return (name.upper() != "PWD" and re.fullmatch(_NAME, name, re.I) is not None
            and _SETTING_KIND.fullmatch(name) is None)


def url_passwords(text: str) -> list[str]:
    """The passwords of the URLs with credentials in text, as written and percent-decoded."""
    found = [m["password"] for m in _URL_CREDENTIALS.finditer(text or "")]
    return sorted({p for password in found for p in (password, unquote(password))})


def register_secret(value: str | None) -> None:
    """Remember a secret value so every later redaction masks it (one shorter than SHORT_SECRET_LENGTH
    as a whole word only; one shorter than 4 characters not at all: it would mask ordinary words)."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def register_identifier(value: str | None) -> None:
    """Remember a name the suite validated or built (project, volume, tag, path) so no known secret's
    value is ever masked inside it."""
    if value and value.strip():
        with _lock:
            _identifiers.add(value)


def is_weak_secret(value: str) -> bool:
    """True for a secret too short to be masked inside other words (or at all, under 4 characters)."""
    return len(value) < SHORT_SECRET_LENGTH


def _patterns() -> tuple[re.Pattern | None, re.Pattern | None]:
    """One alternation of the known secrets (longest first; short ones as whole words) and one of
    the identifiers, compiled once per change of either set."""
    with _lock:
        key = (frozenset(_secrets), frozenset(_identifiers))
        if key not in _compiled:
            _compiled.clear()
            secrets = sorted(_secrets, key=len, reverse=True)
            parts = [re.escape(s) if len(s) >= SHORT_SECRET_LENGTH else f"{_WORD_BEFORE}{re.escape(s)}{_WORD_AFTER}"
                     for s in secrets]
            names = [re.escape(i) for i in sorted(_identifiers, key=len, reverse=True)]
            _compiled[key] = (re.compile("|".join(parts)) if parts else None,
                              re.compile("|".join(names)) if names else None)
        return _compiled[key]


def _mask_known(text: str) -> str:
    """Mask every registered secret's value, except an occurrence that lies wholly inside an identifier."""
    secrets, identifiers = _patterns()
    if secrets is None:
        return text
    # Both searched on their own: a set name must stay whole though its project matched first.
    protected = [m.span() for m in _SET_NAME.finditer(text)]
    protected += [m.span() for m in identifiers.finditer(text)] if identifiers else []
    keys = [m.span("key") for pattern in (_NAMED, _FLAG) for m in pattern.finditer(text)]

    def mask(match: re.Match) -> str:
        start, end = match.span()
        if any(s <= start and end <= e for s, e in protected):
            return match[0]
        # A secret that is itself a secret's name (POSTGRES_PASSWORD=password, as lemmy and hedgedoc ship)
        # leaves a key it spells whole: masked, `password=hunter22` would lose the name that masks hunter22.
        if _KEYWORD.fullmatch(match[0]) and any(s <= start and end <= e for s, e in keys):
            return match[0]
        return MASK
    return secrets.sub(mask, text)


def _mask_value(match: re.Match) -> str:
    value = match["value"]
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            value = quote + MASK + quote
            break
    else:
        value = MASK
    return match["key"] + match["sep"] + (match["scheme"] or "") + value


def redact(text: str) -> str:
    """Return text with registered secrets and secret-shaped values masked."""
    if not text:
        return text
    text = _mask_known(text)
    text = _PRIVATE_KEY.sub(MASK, text)
    text = _URL_CREDENTIALS.sub(lambda m: m["head"] + MASK + "@", text)
    text = _HTTP_CREDENTIALS.sub(lambda m: m["scheme"] + " " + MASK, text)
    text = _FLAG.sub(_mask_value, text)
    return _NAMED.sub(_mask_value, text)


def redact_argv(argv: list[str]) -> list[str]:
    """argv with secrets masked, the value that follows a secret-named flag (--pass VALUE) included."""
    def after_secret_flag(i: int) -> bool:
        flag = argv[i - 1] if i else ""
        return flag.startswith("--") and "=" not in flag and is_secret_name(flag) and not argv[i].startswith("-")
    return [MASK if after_secret_flag(i) else redact(arg) for i, arg in enumerate(argv)]


def is_secret_field(name: str) -> bool:
    """A JSON field whose value is masked whatever it is: a secret name, but not a bare `key` (an
    object's key, a label's key: masked by value like any other field)."""
    return name.strip().lower() != "key" and is_secret_name(name)


def redact_data(value, key: str | None = None):
    """A JSON-able copy of value with every string redacted and every string under a secret field name
    masked; redacting the dumped text instead could cut a JSON string in half."""
    if isinstance(value, dict):
        return {redact(str(k)): redact_data(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [redact_data(item, key) for item in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if key is not None and is_secret_field(key) and str(value):
        return MASK
    return redact(str(value))


_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call must not break the caller
        return record
    record.msg, record.args = redact(message), ()
    return record


def install_log_redaction() -> None:
    """Redact every log record at creation, before any handler (pytest's capture included) sees it."""
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)
