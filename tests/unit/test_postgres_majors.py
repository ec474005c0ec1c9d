"""Which Postgres major a restoring server must reach: what the manifest records and what pg_restore says."""

import pytest

from procedures.commands import postgres as pg
from procedures.sets import manifest

pytestmark = pytest.mark.unit


def test_the_restore_tool_is_asked_for_its_version():
    assert pg.restore_version() == ["pg_restore", "--version"]


@pytest.mark.parametrize("line, major", [
    ("pg_restore (PostgreSQL) 17.5 (Debian 17.5-1)\n", 17),
    ("pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", 15),
    ("pg_restore (PostgreSQL) 9.6.24", 9),
    ("pg_restore (PostgreSQL) 18beta1", 18),
    ("sh: pg_restore: not found", 0),
])
def test_a_tools_major_is_read_from_its_version_line(line, major):
    assert pg.tool_major(line) == major


def _manifest(server_version_num: int, tool_major: int | None) -> dict:
    dump = {"file": "x.dump"} if tool_major is None else {"file": "x.dump", "tool_major": tool_major}
    return {"server_version_num": server_version_num, "dump": dump}


@pytest.mark.parametrize("server, tool, needed", [
    (150018, 15, 150018),   # the usual: pg_dump of the server's major
    (170012, 17, 170012),
    (150018, 17, 170000),   # a newer pg_dump wrote an archive only pg_restore 17 reads
    (150018, None, 150018),  # a manifest written before the tool's major was recorded
    (150018, 0, 150018),
])
def test_a_set_is_restorable_by_the_newer_of_its_server_and_its_dump_tool(server, tool, needed):
    assert manifest.restorable_by(_manifest(server, tool)) == needed
