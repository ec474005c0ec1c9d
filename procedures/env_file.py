"""Reading one variable of a compose env file (KEY=value lines), as data: never sourced or run."""

import re
from pathlib import Path

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*$")


def env_value(env_file: Path, variable: str) -> str:
    """variable's value in env_file (the last line setting it, optionally quoted), "" when not set."""
    value = ""
    for line in Path(env_file).read_text().splitlines():
        match = _ENV_LINE.match(line)
        if not match or match["key"] != variable:
            continue
        value = match["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:  # an unquoted value ends at an inline comment, as compose reads it
            value = value.split(" #", 1)[0].rstrip()
    return value
