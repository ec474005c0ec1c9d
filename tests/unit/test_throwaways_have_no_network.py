"""Every throwaway the suite starts with `docker run` (the drill's server, the disaster and rehearsal
copies' restore servers, the SQLite copy's idle container, a volume probe) has no network at all:
no egress, no DNS name shared with a live container. The rehearsal itself is a compose project,
sealed by release/seal.py (tests/unit/test_rollback_check.py)."""

import re
from pathlib import Path

import pytest

from procedures.commands import docker as cmd

pytestmark = pytest.mark.unit
PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"


def test_every_docker_run_in_the_suite_is_built_with_no_network():
    runs = [(path, line) for path in sorted(PROCEDURES.rglob("*.py")) for line in path.read_text().splitlines()
            if re.search(r'"docker",\s*"run"', line)]
    assert len(runs) == 6, runs  # the builders below; a new one must be added here, networkless
    # The one exception, the drain before a start-first stop: it joins the namespace of the old container
    # it drains (to reset new connections there), never a network of its own.
    drain = [line for _, line in runs if '"--network", f"container:{container}"' in line]
    assert len(drain) == 1 and all('"--network", "none"' in line for _, line in runs if line not in drain), runs


def test_the_drain_shares_only_the_old_containers_namespace_and_runs_only_iptables():
    argv = cmd.refuse_new_connections("old0", 8000, "backup:1")
    assert argv[argv.index("--network") + 1] == "container:old0" and argv.count("--network") == 1
    assert argv[argv.index("--entrypoint") + 1] == "iptables" and "--privileged" not in argv


@pytest.mark.parametrize("argv", [
    cmd.run_isolated_postgres("opsuite-restore-x", "postgres:15", "opsuite-restore-x", "/data", "backups", [], {}),
    cmd.run_isolated_idle("opsuite-restore-x", "backup", "opsuite-restore-x", "/restored", "backups", {}),
    cmd.volume_has_file("backup", "vol", "/x"),
    cmd.image_has_files("app:1.0", ["manage.py"]),
    cmd.image_file_text("app:1.0", "/docker-entrypoint.sh"),
])
def test_each_throwaway_run_has_network_none(argv):
    at = argv.index("--network")
    assert argv[:2] == ["docker", "run"] and argv[at + 1] == "none"
