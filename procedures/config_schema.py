"""Reading the config's schema (the annotated dataclasses of procedures/config.py) for people: what a key
expects, its default as TOML, where a validation error points, and the message an operator gets for it.

Shared by the load (procedures/config.py turns every pydantic error into one of these messages) and the
key reference in docs/CONFIG.md (procedures/config_reference.py), so both say the same thing."""

import dataclasses
import difflib
import json
import typing
from pathlib import Path
from types import NoneType, UnionType

import annotated_types
from pydantic.fields import FieldInfo

_KINDS = {bool: "true or false (without quotes)", int: "a whole number", float: "a number",
          str: "a string in quotes", Path: "a path in quotes", object: "a string, number or true/false"}
NO_DEFAULT = type("NoDefault", (), {"__repr__": lambda self: "(required)"})()  # a key without a default


def unwrap(annotation) -> tuple[object, list]:
    """The type under Annotated[...] and `| None`, with the Annotated metadata found on the way."""
    metadata: list = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            metadata += annotation.__metadata__
            annotation = annotation.__origin__
        elif origin in (typing.Union, UnionType) and NoneType in typing.get_args(annotation):
            rest = [a for a in typing.get_args(annotation) if a is not NoneType]
            annotation = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]
        else:
            return annotation, metadata


def _bounds(metadata: list) -> str:
    found = {}
    for item in metadata:
        for bound in (item.metadata if isinstance(item, FieldInfo) else [item]):
            for name in ("ge", "gt", "le", "min_length"):
                if isinstance(bound, annotated_types.BaseMetadata) and hasattr(bound, name):
                    found[name] = getattr(bound, name)
    low = f"{found['ge']:g}" if "ge" in found else None
    if low is not None and "le" in found:
        return f" from {low} to {found['le']:g}"
    return "".join([f", {low} or more" if low is not None else "", f" above {found['gt']:g}" if "gt" in found else "",
                    f" of at most {found['le']:g}" if "le" in found else "",
                    ", at least one" if found.get("min_length") else ""])


def expected(annotation) -> str:
    """What a key of this annotation takes, in words ("a whole number from 14 to 30")."""
    base, metadata = unwrap(annotation)
    described = [m.description for m in metadata if isinstance(m, FieldInfo) and m.description]
    if described:
        return described[0]
    origin, args = typing.get_origin(base), typing.get_args(base)
    if dataclasses.is_dataclass(base):
        return "a table of settings"
    if origin is tuple and dataclasses.is_dataclass(args[0]):
        return "tables, each under its own [[...]] header"
    if origin is tuple:
        return f"a list{_bounds(metadata)}, each {expected(args[0])}"
    if origin is dict:
        return f"a table, each value {expected(args[1])}"
    if origin in (typing.Union, UnionType):
        return "a string, number or true/false"
    return _KINDS.get(base, getattr(base, "__name__", str(base))) + _bounds(metadata)


def toml(value) -> str:
    """A default as it is written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value))
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if dataclasses.is_dataclass(value):  # a table: the keys it sets beyond their defaults
        given = {k: getattr(value, k) for k, (_, f) in settings(type(value)).items() if getattr(value, k) != default_of(f)}
        return "{ " + ", ".join(f"{k} = {toml(v)}" for k, v in given.items()) + " }"
    return json.dumps(value, default=str)


def default_of(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return NO_DEFAULT


def settings(cls) -> dict[str, tuple[object, dataclasses.Field]]:
    """The keys of one table: name -> (annotation, dataclass field); fields with init=False are no keys."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return {f.name: (hints[f.name], f) for f in dataclasses.fields(cls) if f.init and not f.metadata.get("not_a_key")}


def is_table(annotation) -> bool:
    base = unwrap(annotation)[0]
    return dataclasses.is_dataclass(base) or (typing.get_origin(base) is tuple
                                              and dataclasses.is_dataclass(typing.get_args(base)[0]))


@dataclasses.dataclass
class Spot:
    """Where an error points: the TOML path, the key's annotation and default, and the keys beside it."""
    where: str
    key: str
    annotation: object = None
    default: object = NO_DEFAULT
    siblings: tuple[str, ...] = ()
    table: str = ""


def locate(root, loc: tuple) -> Spot:
    """The TOML path of a pydantic error location: ('backup', 'local_keep_days') is `[backup] local_keep_days`,
    ('deploy', 'smoke', 1, 'path') is `[[deploy.smoke]] #2 path`."""
    tables: list[str] = []
    keys: list[str] = []
    array, annotation, default, siblings, table, key_type = None, root, NO_DEFAULT, (), "", None
    for part in loc:
        base = unwrap(annotation)[0] if annotation is not None else None
        if typing.get_origin(base) in (typing.Union, UnionType):
            continue  # pydantic names the union's member that failed: not a key
        if part == "[key]":  # the key of a table entry, not its value
            annotation = key_type
            continue
        if isinstance(part, int):
            if keys:
                keys[-1] += f"[{part}]"
            else:
                array = part + 1
            annotation, default = (typing.get_args(base) or (None,))[0], NO_DEFAULT
        elif dataclasses.is_dataclass(base) and not keys:
            known = settings(base)
            siblings, table = tuple(known), _table_name(tables, array)
            annotation, field = known.get(part, (None, None))
            default = default_of(field) if field else NO_DEFAULT
            (tables if (annotation is not None and is_table(annotation)) or not tables else keys).append(part)
        else:
            keys.append(str(part))
            args = typing.get_args(base) if base is not None else ()
            (key_type, annotation), default = (args if len(args) == 2 else (None, None)), NO_DEFAULT
    where = _table_name(tables, array)
    return Spot(where + (" " + ".".join(keys) if keys else ""), (keys or tables or [""])[-1].split("[")[0],
                annotation, default, siblings, table)


def _table_name(tables: list[str], array: int | None) -> str:
    if not tables:
        return "the config"
    return f"[[{'.'.join(tables)}]] #{array}" if array else f"[{'.'.join(tables)}]"


def _example(spot: Spot) -> str:
    base, metadata = unwrap(spot.annotation) if spot.annotation is not None else (None, [])
    examples = [e for m in metadata if isinstance(m, FieldInfo) and m.examples for e in m.examples]
    if examples:
        return f"e.g. {spot.key} = {toml(examples[0])}"
    if spot.default is not NO_DEFAULT and spot.default is not None and not dataclasses.is_dataclass(spot.default):
        default = dict(spot.default) if typing.get_origin(base) is dict else spot.default  # kept as pairs
        return f"e.g. {spot.key} = {toml(default)} (the default)"
    return "see docs/CONFIG.md"


def message(root, error: dict, siblings_given: dict[tuple, set]) -> str | None:
    """One operator's message for one pydantic error: the key's path, what was found, what is expected and
    the fix. None for a missing key that an unknown key beside it is the misspelling of (that one says it)."""
    loc = tuple(error["loc"])
    spot = locate(root, loc)
    kind = error["type"]
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        name = str(loc[-1])
        near = difflib.get_close_matches(name, spot.siblings, n=1, cutoff=0.6)
        what = "a section of the config" if len(loc) == 1 else f"a setting of {spot.table}"
        hint = (f"did you mean {near[0]}? rename it" if near else
                f"remove it; the known ones are {', '.join(spot.siblings)}")
        return f"{spot.where} is not {what}: {hint}"
    if kind == "missing":
        nearby = siblings_given.get(loc[:-1], set())
        if any(difflib.get_close_matches(name, [loc[-1]], n=1, cutoff=0.6) for name in nearby):
            return None
        if spot.annotation is not None and is_table(spot.annotation):
            needed = [k for k, (_, f) in settings(unwrap(spot.annotation)[0]).items() if default_of(f) is NO_DEFAULT]
            return f"{spot.where} is missing: add the table with {' and '.join(needed)}, see docs/CONFIG.md"
        return f"{spot.where} is missing: it takes {expected(spot.annotation)}; add it, {_example(spot)}"
    found = error.get("input")
    if loc[-1] == "[key]":
        return f"{spot.where.rsplit('.', 1)[0]} has the key {toml(found)}: expected {expected(spot.annotation)}"
    why = "" if kind.endswith("_type") or kind in ("greater_than", "greater_than_equal", "less_than_equal",
                                                   "string_pattern_mismatch", "too_short") else f" ({error['msg']})"
    return f"{spot.where} = {toml(found)}: expected {expected(spot.annotation)}{why}; {_example(spot)}"


def unknown_keys(root, raw: dict, loc: tuple = ()) -> dict[tuple, set]:
    """Every table's given keys that the schema does not know, by the table's location (for 'did you mean')."""
    found: dict[tuple, set] = {}
    base = unwrap(root)[0]
    if not isinstance(raw, dict) or not dataclasses.is_dataclass(base):
        return found
    known = settings(base)
    found[loc] = set(raw) - set(known)
    for name, value in raw.items():
        if name in known:
            inner = unwrap(known[name][0])[0]
            items = value if isinstance(value, list) and typing.get_origin(inner) is tuple else [value]
            for i, item in enumerate(items):
                element = typing.get_args(inner)[0] if typing.get_origin(inner) is tuple else inner
                where = (*loc, name, i) if items is value else (*loc, name)
                found.update(unknown_keys(element, item, where))
    return found
