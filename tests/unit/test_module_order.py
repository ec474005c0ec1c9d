"""The order modules go to xdist's workers: longest recorded first, unrecorded before all, each module's own
order kept; and the record read back from a JUnit XML report."""

import pytest

from testkit import module_order

pytestmark = pytest.mark.unit

NODEIDS = [
    "tests/stack/test_a.py::test_one",
    "tests/stack/test_a.py::test_two",
    "tests/stack/test_bench.py::test_tiny_run",
    "tests/unit/test_c.py::test_x[1]",
    "tests/unit/test_c.py::test_x[2]",
    "tests/stack/test_new.py::test_first",
]


def in_order(seconds):
    return [NODEIDS[i] for i in module_order.ordered(NODEIDS, seconds)]


def test_longest_first_and_each_modules_tests_in_their_own_order():
    seconds = {"tests/stack/test_a.py": 60.0, "tests/stack/test_bench.py": 200.0, "tests/unit/test_c.py": 1.0,
               "tests/stack/test_new.py": 5.0}
    assert in_order(seconds) == [NODEIDS[2], NODEIDS[0], NODEIDS[1], NODEIDS[5], NODEIDS[3], NODEIDS[4]]


def test_a_module_the_record_does_not_name_goes_first_and_no_record_keeps_the_collection_order():
    seconds = {"tests/stack/test_a.py": 60.0, "tests/stack/test_bench.py": 200.0, "tests/unit/test_c.py": 1.0}
    assert in_order(seconds)[0] == "tests/stack/test_new.py::test_first"
    assert in_order({}) == NODEIDS


def test_the_record_sums_setup_call_and_teardown_per_module_from_junit(tmp_path):
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.unit.test_module_order" name="a" time="1.5"/>'
        '<testcase classname="tests.unit.test_module_order.SomeClass" name="b" time="0.5"/>'
        '<testcase classname="tests.stack.test_bench" name="c" time="198.25"/>'
        '<testcase classname="nowhere.at_all" name="d" time="9.0"/>'
        "</testsuite></testsuites>")
    assert module_order.seconds_per_module(str(report)) == {"tests/stack/test_bench.py": 198.2,
                                                            "tests/unit/test_module_order.py": 2.0}
