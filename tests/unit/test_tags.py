import pytest
from hypothesis import given, strategies as st

from procedures.errors import ConfigError
from procedures.release.tags import validate_tag

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("tag", ["1.0.0", "1.1.0", "1.2.0-broken-migration", "v2", "2026.11.24_1"])
def test_explicit_versions_pass(tag):
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag, message", [
    (None, "no TAG given"), ("", "no TAG given"), ("latest", "moving tag"), ("LATEST", "moving tag"),
    ("stable", "moving tag"), ("-1", "not a valid image tag"), (".1", "not a valid image tag"),
    ("1.0 ", "not a valid image tag"), ("a/b", "not a valid image tag"), ("x" * 129, "not a valid"),
    ("1.0.0\n", "not a valid image tag"),
])
def test_missing_moving_or_malformed_tags_are_refused(tag, message):
    with pytest.raises(ConfigError, match=message):
        validate_tag(tag)


@given(st.text(max_size=140))
def test_any_accepted_tag_is_docker_valid_and_not_latest(tag):
    try:
        validate_tag(tag)
    except ConfigError:
        return
    assert tag.lower() != "latest" and 1 <= len(tag) <= 128
    assert tag[0] not in ".-" and all(c.isascii() and (c.isalnum() or c in "._-") for c in tag)
