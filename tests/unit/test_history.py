"""The history's logic: records read defensively, charts drawn from them, old reports pruned, the index
written whole (0600, temp name then rename) and never failing a check. Chromium reads the page in
test_history_page.py."""

import json
import os
import re
import stat
import time
from datetime import datetime, timedelta, timezone

import pytest

from runbook_plugin import history
from runbook_plugin.history.charts import Point, bytes_text, count_text, line_chart, seconds_text
from runbook_plugin.history.records import NotARun, parse_record
from testkit.history_records import backup_set, record, write_run

pytestmark = pytest.mark.unit
NIGHT = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)


def parse(document) -> object:
    return parse_record("backup/x.json", document if isinstance(document, str) else json.dumps(document),
                        "backup/x.html")


def test_a_backup_record_gives_its_measurements():
    run = parse(record("backup", NIGHT, backup_set=backup_set(4096, 3000), backup_seconds=12.5))
    assert (run.check, run.project, run.outcome, run.started_at) == ("backup", "shop", "passed", NIGHT)
    assert (run.dump_bytes, run.offsite_bytes, run.backup_seconds) == (4096, 3000, 12.5)
    assert run.rto_seconds is None and run.failed_requests is None and run.report == "backup/x.html"


def test_a_drill_plots_its_rto_not_the_size_of_the_set_it_restored():
    run = parse(record("restore_drill", NIGHT, backup_set=backup_set(4096, 3000),
                       drill={"rto_seconds": 310.0, "rpo_seconds": 3600.0, "row_counts": "match"}))
    assert run.rto_seconds == 310.0
    assert run.dump_bytes is None and run.offsite_bytes is None  # no backup was taken in this run


def test_a_deploy_shows_its_change_of_tag_and_failed_requests():
    run = parse(record("deploy", NIGHT, tag={"from": "1.0.0", "to": "1.1.0"}, failed_requests=0))
    assert run.tag == "1.0.0 → 1.1.0" and run.failed_requests == 0


def test_a_summary_field_that_is_absent_reads_as_not_measured():
    document = record("stack_health", NIGHT)
    document["summary"] = {}
    run = parse(document)
    assert run.dump_bytes is None and run.tag is None and run.outcome_text is None


def test_a_run_whose_config_did_not_load_is_a_run_of_no_stack():
    run = parse(record("freshness", NIGHT, "failed", project=None))  # record.py writes project null then
    assert run.project is None and run.outcome == "failed"


def test_the_duration_is_the_steps_times_as_the_step_table_lists_them():
    run = parse(record("deploy", NIGHT, duration=61.2, step_seconds=(1.25, 40.5, 12.0)))
    assert (run.steps_seconds, run.seconds, run.duration_seconds) == (53.75, 53.75, 61.2)
    assert parse(record("deploy", NIGHT, duration=0.6)).seconds == 0.6  # no step ran: start to finish


def test_the_set_where_a_drill_restored_from_and_the_sign_off_are_read():
    run = parse({**record("restore_drill", NIGHT, backup_set=backup_set(4096, 3000), signed_off_by="Ann",
                          signed_off_at="2026-11-01T09:00:00+00:00",
                          drill={"rto_seconds": 310.0, "rpo_seconds": 1.0, "row_counts": "match"}),
                 "backup_source": "remote"})
    assert (run.set_name, run.set_bytes, run.set_offsite, run.set_encrypted) == ("shop-prod-20261101", 4196, True, True)
    assert (run.restored_from, run.signed_off_by, run.signed_off_at) == ("offsite", "Ann", "2026-11-01T09:00:00+00:00")
    told = record("restore_drill", NIGHT, restored_from="local", drill={"rto_seconds": 1.0})
    assert parse({**told, "backup_source": "remote"}).restored_from == "local"  # the summary's word wins


def test_a_drill_that_failed_before_it_had_an_rto_is_a_run():
    document = record("restore_drill", NIGHT, drill={"rto_seconds": None, "rpo_seconds": None})
    document["outcome"] = "failed"
    run = parse(document)
    assert run.outcome == "failed" and run.rto_seconds is None


def test_time_is_read_as_utc():
    document = record("backup", NIGHT)
    document["started_at"] = "2026-11-01T03:00:00+01:00"
    assert parse(document).started_at == NIGHT


def _broken(change):
    document = record("backup", NIGHT, backup_set=backup_set(4096, 3000), backup_seconds=12.5)
    change(document)
    return document


@pytest.mark.parametrize("document, reason", [
    ("{not json", "damaged: not JSON"),
    ("[1, 2]", "damaged: a JSON list, not an object"),
    (_broken(lambda d: d.pop("record_version")), "from an older version: no record_version"),
    (_broken(lambda d: d.update(record_version=1)), "from an older version: record_version 1"),
    (_broken(lambda d: d.update(record_version="2")), "damaged: record_version is a JSON string, not an integer"),
    (_broken(lambda d: d.pop("check")), "damaged: no check"),
    (_broken(lambda d: d.pop("project")), "damaged: no project"),
    (_broken(lambda d: d.pop("summary")), "damaged: no summary"),
    (_broken(lambda d: d.update(summary=None)), "damaged: summary is a JSON null, not an object"),
    (_broken(lambda d: d.update(outcome="maybe")), "damaged: outcome is 'maybe'"),
    (_broken(lambda d: d.update(duration_seconds="61")), "damaged: duration_seconds is a JSON string, not a number"),
    (_broken(lambda d: d.update(started_at="yesterday")), "damaged: started_at 'yesterday' is not an ISO time"),
    (_broken(lambda d: d["summary"]["backup_set"].update(dump_bytes=True)),
     "damaged: summary.backup_set.dump_bytes is a JSON boolean, not an integer"),
    (_broken(lambda d: d["summary"]["backup_set"].pop("dump_bytes")), "damaged: no summary.backup_set.dump_bytes"),
    (_broken(lambda d: d["summary"]["backup_set"].update(offsite_bytes=1.5)),
     "damaged: summary.backup_set.offsite_bytes is a JSON number, not an integer"),
    (_broken(lambda d: d["summary"].update(backup_seconds=-1)), "damaged: summary.backup_seconds is -1"),
    (_broken(lambda d: d["summary"].update(drill={"rpo_seconds": 1})), "damaged: no summary.drill.rto_seconds"),
    (_broken(lambda d: d["summary"].update(failed_requests="none")),
     "damaged: summary.failed_requests is a JSON string, not an integer"),
    (_broken(lambda d: d["summary"].update(tag="1.1.0")), "damaged: summary.tag is a JSON string, not an object"),
])
def test_a_damaged_or_older_record_is_refused_with_the_reason(document, reason):
    with pytest.raises(NotARun) as refused:
        parse(document)
    assert str(refused.value).startswith(reason)


def test_units_read_as_an_operator_reads_them():
    assert [bytes_text(v) for v in (0, 1536, 40 * 2**20, 3 * 2**30)] == ["0 B", "1.5 KiB", "40.0 MiB", "3.0 GiB"]
    assert [seconds_text(v) for v in (42.34, 200, 7200)] == ["42.3 s", "3.3 min", "2.0 h"]
    assert [count_text(v) for v in (3, 1.5, 0)] == ["3", "1.5", "0"]


def _points(values, step=timedelta(days=1)):
    return [Point(NIGHT + i * step, v, False, "backup, passed") for i, v in enumerate(values)]


def test_a_chart_has_one_circle_per_point_placed_by_time_and_value():
    svg = line_chart("Dump size", _points([10, 30, 20]), count_text)
    circles = re.findall(r'<circle class="point" cx="([\d.]+)" cy="([\d.]+)"', svg)
    xs, ys = zip(*((float(x), float(y)) for x, y in circles))
    assert len(circles) == 3 and xs == tuple(sorted(xs))
    assert ys[1] < ys[2] < ys[0]  # up is smaller y: 30 highest, 10 lowest
    assert [t for t in re.findall(r'class="y-label"[^>]*>([^<]+)<', svg)] == ["0", "15", "30"]


def test_a_chart_refuses_no_points_and_draws_one_or_all_zero():
    with pytest.raises(ValueError, match="no points"):
        line_chart("Empty", [], count_text)
    assert line_chart("One", _points([0]), count_text).count("<circle") == 1


@pytest.fixture
def reports(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir(mode=0o700)
    return folder


def test_the_index_lists_runs_and_says_which_records_were_skipped_and_why(reports):
    write_run(reports, record("backup", NIGHT, backup_set=backup_set(4096, 3000), backup_seconds=12.5))
    write_run(reports, record("deploy", NIGHT + timedelta(days=1), "failed", tag={"from": "1.0.0", "to": "1.1.0"}),
              with_report=False)
    write_run(reports, "{", name="backup/20200101T000000Z")
    write_run(reports, json.dumps({"check": "backup", "outcome": "passed"}), name="backup/20200102T000000Z")
    (reports / "backup" / "20200103T000000Z.json").write_bytes(b'{"check": "\xff"}')

    index = history.rewrite_index(reports, keep_days=90, now=NIGHT)
    page = index.read_text()
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    assert [p.name for p in reports.iterdir() if p.is_file()] == ["index.html"]  # no partial left behind
    assert '<a href="backup/20261101T020000Z.html">' in page
    assert "report missing (record deploy/20261102T020000Z.json)" in page  # no dead link
    assert "1.0.0 → 1.1.0" in page and "older than 90 days are pruned" in page
    assert "3 records skipped" in page
    assert "<code>backup/20200101T000000Z.json</code>: damaged: not JSON" in page
    assert "<code>backup/20200102T000000Z.json</code>: from an older version: no record_version" in page
    assert "<code>backup/20200103T000000Z.json</code>: damaged: not UTF-8 text" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_text_from_records_is_escaped_and_redacted(reports):
    write_run(reports, record("backup", NIGHT, outcome_text="<b>ok</b> password=hunter22"))
    page = history.rewrite_index(reports, now=NIGHT).read_text()
    assert "&lt;b&gt;ok&lt;/b&gt;" in page and "hunter22" not in page


def _age(path, days):
    then = time.time() - days * 86400
    os.utime(path, (then, then))


def test_old_reports_of_that_check_are_pruned_and_nothing_else(reports):
    own, other = reports / "backup", reports / "deploy"
    old_report = write_run(reports, record("backup", NIGHT - timedelta(days=100)))
    recent = write_run(reports, record("backup", NIGHT))
    other_old = write_run(reports, record("deploy", NIGHT - timedelta(days=100)))
    (own / "nested").mkdir()
    keep = [own / "notes.txt", own / "nested" / "20200101T000000Z.html", other_old, other_old.with_suffix(".html")]
    for path in keep[:2]:
        path.write_text("x")
    for path in [old_report, old_report.with_suffix(".html"), *keep]:
        _age(path, 100)

    assert history.prune_old_reports(own, 120) == []  # a longer retention keeps them
    pruned = history.prune_old_reports(own, 90)
    assert pruned == [old_report.with_suffix(".html"), old_report]
    assert all(p.exists() for p in [recent, recent.with_suffix(".html"), *keep])


def test_pruning_counts_whole_days_as_find_mtime_does(reports):
    run = write_run(reports, record("backup", NIGHT))
    _age(run, 90.9)  # 90 whole days: not more than 90
    assert history.prune_old_reports(reports / "backup", 90) == []
    _age(run, 91.1)
    assert history.prune_old_reports(reports / "backup", 90) == [run]


@pytest.mark.parametrize("value, days", [(None, 90), ("", 90), ("30", 30), (" 7 ", 7), ("0", 0)])
def test_retention_comes_from_report_keep_days(value, days):
    assert history.keep_days({} if value is None else {"REPORT_KEEP_DAYS": value}) == days


@pytest.mark.parametrize("value", ["ninety", "-1", "1.5"])
def test_a_bad_retention_is_refused_naming_the_setting(value):
    with pytest.raises(ValueError, match="REPORT_KEEP_DAYS must be a whole number of days"):
        history.keep_days({"REPORT_KEEP_DAYS": value})


def test_after_a_check_old_runs_are_pruned_and_leave_the_index(reports, monkeypatch, capsys):
    monkeypatch.setenv("REPORT_KEEP_DAYS", "30")
    old = write_run(reports, record("backup", NIGHT - timedelta(days=40)))
    _age(old, 40)
    _age(old.with_suffix(".html"), 40)
    new = write_run(reports, record("backup", NIGHT))

    history.refresh_after_check(new.with_suffix(".html"), reports.parent)
    page = (reports / "index.html").read_text()
    assert not old.exists() and old.stem not in page
    assert f"backup/{new.stem}.html" in page and "older than 30 days are pruned" in page
    assert f"pruned old report reports/backup/{old.stem}" in capsys.readouterr().out


def test_a_report_outside_reports_is_not_part_of_the_history(tmp_path, reports):
    elsewhere = write_run(tmp_path / "elsewhere", record("backup", NIGHT))
    history.refresh_after_check(elsewhere.with_suffix(".html"), reports.parent)
    assert not (reports / "index.html").exists()


def test_an_index_that_cannot_be_written_is_a_warning_not_a_failure(reports, capsys):
    run = write_run(reports, record("backup", NIGHT))
    (reports / "index.html").mkdir()  # rename onto a directory fails, even for root
    history.refresh_after_check(run.with_suffix(".html"), reports.parent)  # does not raise
    out = capsys.readouterr().out
    assert "WARNING: the history" in out and "NOT rewritten (the check's result stands)" in out
    assert sorted(p.name for p in reports.iterdir()) == ["backup", "index.html"]  # the partial is gone


def test_a_bad_retention_prunes_nothing_and_still_writes_the_index(reports, monkeypatch, capsys):
    monkeypatch.setenv("REPORT_KEEP_DAYS", "ninety")
    old = write_run(reports, record("backup", NIGHT - timedelta(days=400)))
    _age(old, 400)
    history.refresh_after_check(old.with_suffix(".html"), reports.parent)
    assert old.exists() and old.stem in (reports / "index.html").read_text()
    assert "old reports in" in capsys.readouterr().out
