"""Live progress: recorded real output of rclone and pg_dump/pg_restore (tests/fixtures/progress/) turned
into the lines the terminal shows, through the real runner; the plugin's sink writes past pytest's
capture, so the lines reach the terminal and never the HTML report."""

import re
from pathlib import Path

import pytest

from procedures import progress, runner
from procedures.commands import rclone as rclone_cmd
from procedures.engines.postgres.progress import TableCount, table_of
from procedures.errors import CommandFailed
from procedures.redact import register_secret
from procedures.remote.rclone_progress import Stats, Transfer, duration, human, size_in_bytes, stats_of

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "tests" / "fixtures" / "progress"


@pytest.fixture
def shown():
    lines: list[str] = []
    previous = progress.use_sink(lines.append)
    yield lines
    progress.use_sink(previous)


def replay(name: str) -> list[str]:
    """A real command whose stderr is the recorded output (the recording's '#' lines left out)."""
    return ["sh", "-c", f'grep -v "^#" "$0" >&2; exit "$(sed -n "s/^# exit //p" "$0" | grep . || echo 0)"', str(RECORDED / name)]


class Here:
    """Runs argv on this host, as the backup container's `run` does inside it."""

    def run(self, argv, **kwargs):
        return runner.run(argv, **kwargs)


def test_every_copy_asks_rclone_for_its_one_line_stats_every_5_seconds():
    stats = ["--stats=5s", "--stats-one-line", "--stats-log-level=NOTICE"]
    assert rclone_cmd.copy_files("/backups", "r:Z/prod", ["a.dump", "a.manifest.json"]) == [
        "rclone", "copy", *stats, "--no-traverse", "--ignore-times", "--include", "/a.dump", "--include", "/a.manifest.json",
        "/backups", "r:Z/prod"]
    assert rclone_cmd.copy_objects_to_local("r:Z/prod/uploads-store/z", "/tmp/o", "/backups/f/uploads-store/z") == [
        "rclone", "copy", *stats, "--files-from-raw", "/tmp/o", "r:Z/prod/uploads-store/z", "/backups/f/uploads-store/z"]


def test_every_progress_line_is_redacted(shown):
    register_secret("pr0gress-s3cret-77")
    progress.show("upload set files to sftp://zen:pr0gress-s3cret-77@host/x: 1 MiB / 2 MiB")
    assert shown == ["upload set files to sftp://zen:***@host/x: 1 MiB / 2 MiB"]


def test_rclone_stats_lines_are_shown_as_they_come_and_the_last_is_the_copys_figures(shown):
    transfer = Transfer("upload")
    transfer.copy(Here(), "set files", replay("rclone_copy_stats.txt"))
    # the first line has no rate of rclone's: the bytes over the replay's own (tiny) seconds stand in
    assert re.fullmatch(r"upload set files: 21\.319 MiB / 57\.221 MiB, 37%, [\d.]+ \S*B/s, ETA \d+s", shown[0])
    assert "0 B/s" not in shown[0] and "ETA -" not in shown[0]
    assert shown[1:] == ["upload set files: 41.324 MiB / 57.221 MiB, 72%, 21.349 MiB/s, ETA 0s",
                     "upload set files: 57.235 MiB / 57.235 MiB, 100%, 20.675 MiB/s, ETA 0s"]
    [copied] = transfer.copies
    assert {k: v for k, v in copied.items() if k != "seconds"} == {
        "copy": "set files", "transferred": "57.235 MiB", "of": "57.235 MiB", "speed": "20.675 MiB/s"}
    assert isinstance(copied["seconds"], float)


def test_rclone_stats_with_transfers_in_flight_keep_rclones_own_text(shown):
    transfer = Transfer("download")
    transfer.copy(Here(), "uploads store objects", replay("rclone_many_objects_stats.txt"))
    assert re.fullmatch(r"download uploads store objects: 3\.101 MiB / 11\.444 MiB, 27%, [\d.]+ \S*B/s, ETA \d+s "
                        r"\(xfr#8/40\)", shown[0]), shown[0]
    assert shown[1] == "download uploads store objects: 6.123 MiB / 11.444 MiB, 54%, 3.132 MiB/s, ETA 1s (xfr#19/40)"
    assert shown[-1] == "download uploads store objects: 11.444 MiB / 11.444 MiB, 100%, 3.027 MiB/s, ETA 0s"
    assert len(shown) == 4 and transfer.copies[0]["transferred"] == "11.444 MiB"


def test_a_failed_rclone_copy_shows_only_its_stats_and_keeps_no_figures(shown):
    transfer = Transfer("upload")
    with pytest.raises(CommandFailed) as caught:
        transfer.copy(Here(), "set files", replay("rclone_failed_copy.txt"))
    assert shown == [], "rclone's empty stats before it failed are no progress"
    assert caught.value.returncode == 3 and "Failed to copy: directory not found" in caught.value.stderr_tail
    assert transfer.copies == []


def test_a_copy_done_before_rclone_has_a_rate_shows_the_bytes_over_the_copys_own_seconds(shown):
    """rclone writes `0 B/s, ETA -` until its moving average has samples: a copy of under a second ends so."""
    transfer = Transfer("upload")
    done = transfer.copy(Here(), "set files", replay("rclone_fast_copy_stats.txt"))
    [line] = shown
    found = re.fullmatch(r"upload set files: 28\.610 MiB / 28\.610 MiB, 100%, ([\d.]+) (\S*B)/s, ETA 0s", line)
    assert found, line
    speed = size_in_bytes(f"{found[1]} {found[2]}")
    assert speed > 28 * 2**20, "28.6 MiB in the well under a second the replay takes"
    [copied] = transfer.copies
    assert copied["transferred"] == "28.610 MiB" and copied["speed"] != "0 B/s"
    assert abs(size_in_bytes(copied["speed"].removesuffix("/s")) - 30000000 / done.seconds) < 0.01 * speed


def test_a_copy_with_nothing_to_send_says_so_instead_of_rclones_empty_stats(shown):
    transfer = Transfer("upload")
    transfer.copy(Here(), "uploads store objects", replay("rclone_nothing_to_send.txt"))
    assert shown == ["upload uploads store objects: nothing to send, every one is there already"]
    assert transfer.copies[0]["transferred"] == "0 B" and transfer.copies[0]["of"] == "0 B"


def test_rclone_sizes_in_bytes_and_back():
    assert size_in_bytes("0 B") == 0 and size_in_bytes("3 B") == 3
    assert size_in_bytes("57.235 MiB") == round(57.235 * 2**20) and size_in_bytes("1.5 GiB") == 3 * 2**29
    assert [human(n) for n in (0, 3, 1023, 1024, round(57.235 * 2**20))] == [
        "0 B", "3 B", "1023 B", "1.000 KiB", "57.235 MiB"]
    with pytest.raises(ValueError, match="unit"):
        size_in_bytes("3 MBytes")


def test_a_rate_rclone_has_not_worked_out_is_the_bytes_over_the_seconds_so_far():
    stats = Stats.of(stats_of("2026/12/02 04:24:02 NOTICE:    21.319 MiB / 57.221 MiB, 37%, 0 B/s, ETA -"))
    assert stats.done == round(21.319 * 2**20) and stats.total == round(57.221 * 2**20)
    own = stats.with_rate_since(2.0)
    assert own.text() == f"21.319 MiB / 57.221 MiB, 37%, {human(stats.done / 2)}/s, ETA 3s"
    rclones = Stats.of(stats_of("2026/12/02 04:24:03 NOTICE:    41.324 MiB / 57.221 MiB, 72%, 21.349 MiB/s, ETA 0s"))
    assert rclones.with_rate_since(2.0) == rclones, "rclone's own rate stands when it has one"
    assert [duration(s) for s in (0, 42, 185, 3723)] == ["0s", "42s", "3m5s", "1h2m3s"]


def test_only_rclones_stats_lines_are_stats():
    lines = [line for name in ("rclone_copy_stats.txt", "rclone_failed_copy.txt")
             for line in (RECORDED / name).read_text().splitlines() if not line.startswith("#")]
    assert [line[20:] for line in lines if stats_of(line) is None] == [
        'NOTICE: Config file "/root/.config/rclone/rclone.conf" not found - using defaults',
        'NOTICE: Config file "/root/.config/rclone/rclone.conf" not found - using defaults',
        "ERROR : Local file system at /nonexist: error reading source root directory: directory not found",
        "ERROR : Attempt 1/3 failed with 1 errors and: directory not found",
        "ERROR : Local file system at /nonexist: error reading source root directory: directory not found",
        "ERROR : Attempt 2/3 failed with 1 errors and: directory not found",
        "ERROR : Local file system at /nonexist: error reading source root directory: directory not found",
        "ERROR : Attempt 3/3 failed with 1 errors and: directory not found",
        "Failed to copy: directory not found"]


def test_pg_dump_verbose_lines_become_table_i_of_n(shown):
    tables = TableCount("dump", 3)
    runner.run(replay("pg_dump_verbose.txt"), progress=tables, limit="dump")
    assert shown == ["dump: table 1 of 3: app.Order Lines", "dump: table 2 of 3: public.alembic_version",
                     "dump: table 3 of 3: public.items"]
    assert tables.done == 3


def test_a_dump_whose_file_this_host_can_stat_shows_the_bytes_written_at_each_table(shown, tmp_path):
    dump = tmp_path / "s.dump.partial"
    dump.write_bytes(b"x" * 2048)
    runner.run(replay("pg_dump_verbose.txt"), progress=TableCount("dump", 3, progress.file_size(dump)), limit="dump")
    assert shown == ["dump: table 1 of 3: app.Order Lines (2.000 KiB written)",
                     "dump: table 2 of 3: public.alembic_version (2.000 KiB written)",
                     "dump: table 3 of 3: public.items (2.000 KiB written)"]


def test_a_dump_file_this_host_cannot_see_shows_no_bytes(shown, tmp_path):
    assert progress.file_size(None)() is None and progress.file_size(tmp_path / "absent")() is None
    runner.run(replay("pg_dump_verbose.txt"), progress=TableCount("dump", 3, progress.file_size(None)), limit="dump")
    assert shown[0] == "dump: table 1 of 3: app.Order Lines"


def test_pg_restore_verbose_lines_of_parallel_jobs_count_each_table_once(shown):
    tables = TableCount("restore", 3)
    runner.run(replay("pg_restore_verbose_jobs2.txt"), progress=tables, limit="restore")
    assert shown == ["restore: table 1 of 3: app.Order Lines", "restore: table 2 of 3: public.alembic_version",
                     "restore: table 3 of 3: public.items"]


def test_parallel_workers_lines_interleaved_on_one_stderr_still_count_each_table(shown):
    # two workers: prefix A, prefix B, message A, message B (each pg_log line is two writes)
    tables = TableCount("restore", 3)
    for line in ['pg_restore: processing data for table "app.Order Lines"',
                 'pg_restore: pg_restore: processing data for table "public.alembic_version"',
                 'processing data for table "public.items"',
                 'pg_restore: pg_restore: finished item 3340 TABLE DATA public items',
                 'finished item 3341 TABLE DATA public alembic_version']:
        tables(line)
    assert shown == ["restore: table 1 of 3: app.Order Lines", "restore: table 2 of 3: public.alembic_version",
                     "restore: table 3 of 3: public.items"]


def test_parallel_workers_lines_mixed_at_the_prefix_and_its_space_still_count_each_table(shown):
    # recorded: 'pg_restore:pg_restore: processing ... "public.b"' then ' processing ... "public.a"' (each log
    # line is three writes: 'pg_restore:', ' ', the message); the live count stopped at 'table 1 of 3'
    runner.run(replay("pg_restore_jobs2_interleaved.txt"), progress=TableCount("restore", 3), limit="restore")
    assert shown == ["restore: table 1 of 3: public.b", "restore: table 2 of 3: public.a",
                     "restore: table 3 of 3: public.c"]


def test_without_a_known_table_count_the_tables_are_still_counted(shown):
    runner.run(replay("pg_restore_verbose_jobs2.txt"), progress=TableCount("restore", 0), limit="restore")
    assert shown[0] == "restore: table 1: app.Order Lines"


def test_other_verbose_lines_name_no_table():
    lines = [line for name in ("pg_dump_verbose.txt", "pg_restore_verbose_jobs2.txt")
             for line in (RECORDED / name).read_text().splitlines() if not line.startswith("#")]
    assert [table_of(line) for line in lines if table_of(line)] == [
        "app.Order Lines", "public.alembic_version", "public.items"] * 2
    assert table_of('pg_restore: creating TABLE "public.items"') is None
    assert table_of("pg_restore: finished item 3364 TABLE DATA Order Lines") is None


PROGRESS_CHECK = '''
import sys
from procedures import progress, runner
from procedures.engines.postgres.progress import TableCount
from procedures.redact import register_secret


def test_a_step_before():
    """Its result is on the line when the progress starts."""


def test_step_shows_progress():
    print("captured-by-pytest")
    register_secret("plugin-s3cret-4242")
    progress.show("upload set files: 1 MiB / 2 MiB, 50%, 1 MiB/s, ETA 1s via plugin-s3cret-4242")
    runner.run(["sh", "-c", 'grep -v "^#" "$0" >&2', __RECORDED__], progress=TableCount("restore", 3), limit="restore")
'''


@pytest.mark.parametrize("verbosity", [[], ["-q"], ["-v"]], ids=["default", "quiet", "verbose"])
def test_the_plugin_shows_progress_on_the_terminal_and_keeps_it_out_of_captured_output_and_the_report(
        pytester, verbosity):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "progressing.py").write_text(
        PROGRESS_CHECK.replace("__RECORDED__", repr(str(RECORDED / "pg_restore_verbose_jobs2.txt"))))
    # -rP: the captured output of a passed test is shown at the end, in its own section
    result = pytester.runpytest_subprocess("ops_checks/progressing.py", "-p", "no:cacheprovider", "-rP", *verbosity)
    result.assert_outcomes(passed=2)
    terminal = result.stdout.str()
    live, _, captured = terminal.partition("= PASSES =")
    for line in ("upload set files: 1 MiB / 2 MiB, 50%, 1 MiB/s, ETA 1s via ***", "restore: table 1 of 3: app.Order Lines",
                 "restore: table 3 of 3: public.items"):
        assert re.search(f"^{re.escape(line)}$", live, re.M), terminal  # a line of its own
    assert "captured-by-pytest" in captured, "the check's own output is captured as before"
    assert "table 1 of 3" not in captured and "ETA" not in captured and "plugin-s3cret-4242" not in terminal
    [report] = (pytester.path / "reports" / "progressing").glob("*.html")
    page = report.read_text()
    assert "captured-by-pytest" in page
    assert "table 1 of 3" not in page and "ETA 1s" not in page
