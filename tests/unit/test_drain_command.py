"""The drain before a start-first stop, as a command: a reset for new connections to the app's port, in the
old container's own network namespace only (a throwaway sharing it), never pulled, nothing else touched."""

import pytest

from procedures.commands import docker as docker_cmd

pytestmark = pytest.mark.unit


def test_new_connections_are_refused_in_the_containers_namespace_only():
    argv = docker_cmd.refuse_new_connections("3f2a9c", 8000, "opsuite-local/backup:pg15")
    assert argv[:4] == ["docker", "run", "--rm", "--pull"] and "never" in argv
    assert argv[argv.index("--network") + 1] == "container:3f2a9c"
    assert argv[argv.index("--cap-add") + 1] == "NET_ADMIN" and "--privileged" not in argv
    rule = argv[argv.index("opsuite-local/backup:pg15") + 1:]
    assert rule == ["-I", "INPUT", "-p", "tcp", "--dport", "8000", "--syn", "-j", "REJECT", "--reject-with", "tcp-reset"]
    assert "-v" not in argv and "--volume" not in argv
