"""How a disaster restore names what it makes: <volume or database>_restored_<UTC stamp>.

One rule for both directions: a new name from the current one (a second disaster replaces the
stamp instead of stacking it), and the name a restored database stands for, so that its backups
continue the series of the database it replaced.
"""

import re
from datetime import datetime, timezone

_RESTORED_SUFFIX = re.compile(r"_restored_[0-9]{8}T[0-9]{6}Z$")


def new_name(current: str, now: datetime, limit: int | None = None) -> str:
    """<current without an earlier stamp>_restored_<UTC stamp>, within limit characters (Postgres names: 63)."""
    stamp = f"_restored_{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    base = original_name(current)
    return (base[:limit - len(stamp)] if limit else base) + stamp


def original_name(name: str) -> str:
    """The name a restored volume or database was made for (the name itself when it is no restore's)."""
    return _RESTORED_SUFFIX.sub("", name)
