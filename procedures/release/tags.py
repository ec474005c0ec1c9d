"""Release tags: explicit versions only, never a moving tag such as `latest`."""

import re

from ..errors import ConfigError

_DOCKER_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_MOVING_TAGS = {"latest", "stable", "main", "master", "edge", "nightly"}


def validate_tag(tag: str | None) -> str:
    """Return tag if it names an explicit version; refuse missing, moving or malformed tags."""
    if not tag:
        raise ConfigError("no TAG given: pass --tag=VERSION (for example --tag=1.1.0)")
    if tag.lower() in _MOVING_TAGS:
        raise ConfigError(
            f"TAG {tag!r} is a moving tag; deploy an explicit version (for example --tag=1.1.0)"
        )
    if not _DOCKER_TAG.fullmatch(tag):
        raise ConfigError(
            f"TAG {tag!r} is not a valid image tag: use letters, digits, '.', '_' and '-', "
            "at most 128 characters, not starting with '.' or '-'"
        )
    return tag
