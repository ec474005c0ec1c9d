"""What a smoke check sends and whether its answer passes: pure, so every decision is unit tested."""

import json
import os

from ..config import SmokeCheck
from ..errors import ConfigError
from ..redact import register_secret

_MISSING = object()


def header_values(check: SmokeCheck) -> dict[str, str]:
    """Each header's value from its environment variable, registered with the redactor; refuses a
    variable that is not set, naming it (never a value)."""
    values = {}
    for header, variable in check.headers:
        value = os.environ.get(variable)
        if not value:
            raise ConfigError(f"[[deploy.smoke]] path = {check.path!r}: header {header} reads the environment "
                              f"variable {variable}, which is not set; export it (or put it in the environment the "
                              "checks run with) before the run")
        register_secret(value)
        values[header] = value
    return values


def field_of(document, dotted: str, missing=None):
    """The value at a dotted path of a JSON document ("build", "release.version"), or missing."""
    for key in dotted.split("."):
        if not isinstance(document, dict) or key not in document:
            return missing
        document = document[key]
    return document


def json_mismatches(check: SmokeCheck, body: str) -> list[str]:
    """Each json_fields expectation the body does not meet, said in words."""
    if not check.json_fields:
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return [f"the answer is not JSON (expected fields {', '.join(f for f, _ in check.json_fields)})"]
    wrong = []
    for dotted, expected in check.json_fields:
        found = field_of(document, dotted, _MISSING)
        if found is _MISSING:
            wrong.append(f"{dotted} is absent")
        elif found != expected or isinstance(found, bool) != isinstance(expected, bool):
            wrong.append(f"{dotted} is {json.dumps(found)[:80]}, expected {json.dumps(expected)}")
    return wrong


def judge(check: SmokeCheck, status: int | None, body: str, seconds: float) -> dict:
    """The result row of one check: its status among the allowed, its text, its JSON fields."""
    wrong = json_mismatches(check, body) if status in check.allowed else []
    ok = status in check.allowed and check.contains in body and not wrong
    row = {"method": check.method, "path": check.path,
           "expected": check.allowed[0] if len(check.allowed) == 1 else list(check.allowed),
           "status": status, "contains": check.contains, "ok": ok, "seconds": round(seconds, 3)}
    if check.headers:
        row["headers"] = [header for header, _ in check.headers]  # names only: values are secrets
    if check.json_fields:
        row["json"] = "; ".join(wrong) if wrong else "as expected"
    return row
