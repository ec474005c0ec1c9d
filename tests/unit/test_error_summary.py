"""A failed step's one line in the report header and record: the exception's message, never a traceback's
marker (`~~~^^^`) or frame line, from real output of a failing command run through procedures/runner.py."""

import sys

import pytest

from procedures import runner
from procedures.errors import CommandFailed, DeployError, RestoreError
from procedures.execution import error_summary

pytestmark = pytest.mark.unit

# A migration that divides by zero, as alembic or Django would run it: Python's traceback on stderr.
MIGRATION = """
def upgrade():
    rows = 0
    return 100 / rows

upgrade()
"""


def failed_migration() -> CommandFailed:
    with pytest.raises(CommandFailed) as failed:
        runner.run([sys.executable, "-c", MIGRATION], limit="command")
    return failed.value


def test_the_real_traceback_has_source_lines_before_its_message():
    tail = failed_migration().stderr_tail
    assert tail.splitlines()[0].startswith("Traceback") and 'File "<string>"' in tail
    assert tail.rstrip().endswith("ZeroDivisionError: division by zero")


def test_a_failed_command_names_its_exception():
    summary = error_summary(failed_migration())
    assert summary.startswith("CommandFailed: command failed (exit 1): ")
    assert summary.endswith(": ZeroDivisionError: division by zero") and "\n" not in summary


def test_a_message_that_pastes_the_traceback_after_a_colon_gets_the_exception_not_its_first_frame():
    e = failed_migration()
    try:
        raise RestoreError(f"pg_restore of shop failed (exit {e.returncode}): {e.stderr_tail}") from e
    except RestoreError as wrapped:
        summary = error_summary(wrapped)
    assert summary == "RestoreError: pg_restore of shop failed (exit 1): ZeroDivisionError: division by zero"


def test_a_message_that_already_names_the_reason_is_kept_whole():
    e = failed_migration()
    try:
        raise DeployError(f"migration of 1.2.0 failed; the database stays at 0002: {e.reason}\n{e.stderr_tail}") from e
    except DeployError as wrapped:
        assert error_summary(wrapped) == ("DeployError: migration of 1.2.0 failed; the database stays at 0002: "
                                          "ZeroDivisionError: division by zero")


def test_a_message_that_starts_with_a_traceback_marker_reads_as_its_error_line():
    error = RuntimeError("    ~~~~^^^^^^\n  File \"m.py\", line 4, in upgrade\nZeroDivisionError: division by zero")
    assert error_summary(error) == "RuntimeError: ZeroDivisionError: division by zero"


def test_a_postgres_error_is_its_error_line(tmp_path):
    script = tmp_path / "psql_fails.py"  # the output is not in the argv, as with a real psql
    script.write_text("import sys\nsys.stderr.write('ERROR:  division by zero\\nLINE 1: select 1/0\\n"
                      "                 ^\\n')\nsys.exit(3)\n")
    with pytest.raises(CommandFailed) as failed:
        runner.run([sys.executable, str(script)], limit="command")
    assert error_summary(failed.value).endswith("psql_fails.py: ERROR:  division by zero")


def test_an_error_without_a_command_keeps_its_first_line():
    assert error_summary(ValueError("bad value\nmore")) == "ValueError: bad value"
    assert error_summary(KeyError()) == "KeyError: "
