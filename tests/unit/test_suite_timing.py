"""What the suite assumes about time: no verdict depends on how fast a busy machine runs an example."""

import time

import pytest
from hypothesis import given, settings, strategies as st

pytestmark = pytest.mark.unit


def test_property_tests_have_no_per_example_deadline():
    assert settings().deadline is None


@settings(max_examples=3)
@given(st.integers())
def test_a_slow_example_is_not_a_failure(n):
    time.sleep(0.25)  # past hypothesis's default 200 ms deadline, as an example on a busy machine can be
    assert isinstance(n, int)
