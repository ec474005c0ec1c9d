"""The operator named in records, the ledger and the lock: the person behind sudo, not root."""

import getpass

import pytest

from procedures.operator import operator_name

pytestmark = pytest.mark.unit


def test_sudo_user_first_then_logname_then_the_process_user():
    assert operator_name({"SUDO_USER": "ann", "LOGNAME": "root"}) == "ann"
    assert operator_name({"LOGNAME": "bob"}) == "bob"
    assert operator_name({"SUDO_USER": " ", "LOGNAME": ""}) == getpass.getuser()
    assert operator_name({}) == getpass.getuser()
