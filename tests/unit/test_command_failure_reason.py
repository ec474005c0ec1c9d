"""A failed command's one-line reason, for a report header with room for one line: the error line the tool
printed, never a traceback's marker line (`~~~^^^`) or a source line."""

import pytest

from procedures.errors import CommandFailed

pytestmark = pytest.mark.unit

DJANGO_MIGRATE_TAIL = """    return self.cursor.execute(sql)
           ~~~~~~~~~~~~~~~~~~~^^^^^
  File "/opt/venv/lib/python3.13/site-packages/psycopg/cursor.py", line 117, in execute
    raise ex.with_traceback(None)
django.db.utils.InternalError: a migration that fails on purpose
CONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE
           ~~~~~~~~~~~~~~~^^^^^^^^^^^^^
"""


def test_the_reason_is_the_exception_line_not_the_markers_or_the_context():
    failed = CommandFailed(["docker", "compose", "run", "migrate"], 1, DJANGO_MIGRATE_TAIL)
    assert failed.reason == "django.db.utils.InternalError: a migration that fails on purpose"


def test_postgres_and_cli_error_lines_are_reasons():
    assert CommandFailed(["psql"], 3, "NOTICE:  hi\nERROR:  division by zero\nLINE 1: select 1/0").reason == \
        "ERROR:  division by zero"
    assert CommandFailed(["docker"], 1, "Error response from daemon: No such image: shop:9\n").reason == \
        "Error response from daemon: No such image: shop:9"


def test_without_an_error_line_the_last_real_line_and_without_any_the_exit_code():
    assert CommandFailed(["x"], 2, "starting\nnothing to do here\n   ^^^\n").reason == "nothing to do here"
    assert CommandFailed(["x"], 2, "").reason == "exit 2"
