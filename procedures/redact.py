"""One redactor for logs, errors and reports: known secret values and secret-shaped text."""

import logging
import re
import threading

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words

_SECRET_SHAPES = [
    # key=value / key: value where the key names a secret
    re.compile(
        r"(?i)(\b[\w.-]*(?:password|passwd|secret|token|api[_-]?key|passphrase)[\w.-]*\b"
        r"(?:\\?[\"'])?\s*[=:]\s*(?:\\?[\"'])?)([^\s\\\"',}]+)"
    ),
    # credentials embedded in URLs: scheme://user:password@host
    re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)"),
]

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so every later redaction masks it."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return text with registered secrets and secret-shaped values masked."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, MASK)
    text = _SECRET_SHAPES[0].sub(lambda m: m.group(1) + MASK, text)
    text = _SECRET_SHAPES[1].sub(lambda m: m.group(1) + MASK + m.group(3), text)
    return text


def redact_argv(argv: list[str]) -> list[str]:
    return [redact(arg) for arg in argv]


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
