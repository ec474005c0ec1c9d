"""The reference of every ops.toml key (docs/CONFIG.md), generated from the schema in procedures/config.py,
so the doc says what the load checks. `python -m procedures.config_reference` rewrites it; a unit test
fails when the doc and the schema differ."""

import sys
from pathlib import Path

from .config import OpsConfig
from .config_schema import NO_DEFAULT, default_of, expected, is_table, settings, toml, unwrap

DOC = Path(__file__).resolve().parents[1] / "docs" / "CONFIG.md"
BEGIN = "<!-- generated from procedures/config.py by `python -m procedures.config_reference`; do not edit -->"
END = "<!-- end of the generated reference -->"


def _default(annotation, value) -> str:
    if value is NO_DEFAULT:
        return "required"
    if value is None:
        return "none (the table is optional: without it, nothing of it is done)" if is_table(annotation) else "none"
    base = unwrap(annotation)[0]
    if getattr(base, "__origin__", None) is dict:
        value = dict(value)  # kept as (key, value) pairs
    return f"`{toml(value)}`".replace("|", "\\|")


def _tables(cls, name: str, array: bool = False):
    """(heading, rows) of one table and then of the tables inside it."""
    rows, inner = [], []
    for key, (annotation, field) in settings(cls).items():
        base = unwrap(annotation)[0]
        if is_table(annotation):
            element = base.__args__[0] if getattr(base, "__origin__", None) is tuple else base
            tables = _tables(element, f"{name}.{key}" if name else key, element is not base)
            note = _default(annotation, default_of(field))
            if note.startswith("none") or element is not base:
                tables[0] = (tables[0][0], [f"Default: {note}.", "", *tables[0][1]])
            inner += tables
        else:
            rows.append(f"| `{key}` | {expected(annotation).replace('|', chr(92) + '|')} "
                        f"| {_default(annotation, default_of(field))} |")
    heading = f"[[{name}]]" if array else f"[{name}]"
    return ([(heading, rows)] if rows else []) + inner


def reference() -> str:
    """The generated part of docs/CONFIG.md: one table of keys per TOML table."""
    parts = [BEGIN]
    for heading, rows in _tables(OpsConfig, ""):
        note = rows[:2] if rows[0].startswith("Default") else []
        parts += ["", f"### `{heading}`", "", *note, "| key | takes | default |", "|---|---|---|", *rows[len(note):]]
    return "\n".join([*parts, "", END])


def rewrite(doc: Path = DOC) -> None:
    text = doc.read_text()
    head, _, rest = text.partition(BEGIN)
    doc.write_text(head + reference() + rest.partition(END)[2])


if __name__ == "__main__":
    rewrite(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC)
