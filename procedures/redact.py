"""One redactor for everything the suite shows or writes (logs, errors, reports, records, the ledger):
known secret values and secret-shaped text; and the private files that output goes to (0600 in 0700)."""

import logging
import re
import threading
from urllib.parse import unquote

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words

# A name that holds a secret: one of these words anywhere in it, or one of the short ones as a whole
# part of it (SMTP_PASS, db.pw, SENTRY_DSN, B2_KEY, BASIC_AUTH; never "bypass", "passed" or "monkey").
_WORDS = r"password|passwd|passphrase|secret|token|credential|pwd|apikey|accesskey|privatekey|authorization"
_PARTS = r"pass|pw|auth|dsn|key"
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

_lock = threading.Lock()
_secrets: set[str] = set()


def is_secret_name(name: str) -> bool:
    """True for a variable or key name that holds a secret (PWD alone is the shell's directory)."""
    return name.upper() != "PWD" and re.fullmatch(_NAME, name, re.I) is not None


def url_passwords(text: str) -> list[str]:
    """The passwords of the URLs with credentials in text, as written and percent-decoded."""
    found = [m["password"] for m in _URL_CREDENTIALS.finditer(text or "")]
    return sorted({p for password in found for p in (password, unquote(password))})


def register_secret(value: str | None) -> None:
    """Remember a secret value so every later redaction masks it."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


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
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, MASK)
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


def redact_data(value, key: str | None = None):
    """A JSON-able copy of value with every string redacted and every string under a secret name
    masked; redacting the dumped text instead could cut a JSON string in half."""
    if isinstance(value, dict):
        return {redact(str(k)): redact_data(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [redact_data(item, key) for item in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if key is not None and is_secret_name(key) and str(value):
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
