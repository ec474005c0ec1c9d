"""reports/index.html as headless Chromium draws it, from known records: the status strip first (each
duty's state and age against its limit, from status.py), one circle per run on each chart, placed in the
order of time and value, visible (the topmost thing at its centre), the largest value labelled at the
top of its axis, dated ticks and the limits placed by time; every run a row with a working link and its
set, RTO and sign-off (a run whose config did not load too); the skipped records listed.

The page itself has no script. To read the layout Chromium computed, the test renders a copy with
testkit/history_probe.js appended, which writes what it measured into the DOM that --dump-dom prints.
"""

import html
import json
import re
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from procedures import ledger
from procedures.load import load_config
from runbook_plugin import history
from runbook_plugin.history.charts import FAILED_COLOUR, LEFT, PASSED_COLOUR, bytes_text, count_text, seconds_text
from runbook_plugin.history.page import COLUMNS, STATE_COLOURS
from testkit import chromium
from testkit.history_records import backup_set, record, write_run

pytestmark = pytest.mark.unit
PROBE = Path(__file__).resolve().parents[2] / "testkit" / "history_probe.js"
MIB = 2**20
START = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
NIGHTS = [START + timedelta(days=d) for d in (0, 1, 2, 4, 5)]  # night 3 has no backup: a gap on the charts
DUMP = [40 * MIB, 44 * MIB, 43 * MIB, 47 * MIB, 52 * MIB]
BACKUP_SECONDS = [20.0, 25.5, 22.0, 30.0, 24.0]
OFFSITE = [30 * MIB, 33 * MIB, 32 * MIB, 35 * MIB, 39 * MIB]
DRILLS = [START - timedelta(days=60), START - timedelta(days=30), START]
RTO = [300.0, 420.0, 360.0]
DEPLOYS = [START + timedelta(days=1, hours=10), START + timedelta(days=2, hours=10), START + timedelta(days=5, hours=10)]
DEPLOY_SECONDS = [45.0, 80.0, 52.0]
FAILED_REQUESTS = [0, 3, None]  # the last deploy was not measured under load
BLOG_NIGHTS = [START + timedelta(hours=1), START + timedelta(days=1, hours=1)]
BLOG_DUMP = [5 * MIB, 7 * MIB]
BLOG_SECONDS = [3.0, 4.5]
FAILED_NIGHT = 2  # the third backup failed after its dump
NOW = START + timedelta(days=6)  # the newest backup is 24 h old: amber against 26 h; the drill 6 days: green
CONFIG_FAILED = START + timedelta(days=3, hours=6)  # a freshness run whose config did not load
SIGNED = ("Ann Smith", "2026-11-01T09:30:00+00:00")  # the newest drill, signed off after the run


def rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(colour[i:i + 2], 16) for i in (1, 3, 5)))


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("history") / "reports"
    folder.mkdir(mode=0o700)
    for i, night in enumerate(NIGHTS):
        write_run(folder, record("backup", night, "failed" if i == FAILED_NIGHT else "passed",
                                 backup_set=backup_set(DUMP[i], OFFSITE[i]), backup_seconds=BACKUP_SECONDS[i]))
    for when, rto in zip(DRILLS, RTO):
        signed = dict(zip(("signed_off_by", "signed_off_at"), SIGNED)) if when == DRILLS[-1] else {}
        write_run(folder, {**record("restore_drill", when, backup_set=backup_set(DUMP[0], OFFSITE[0]),
                                    drill={"rto_seconds": rto, "rpo_seconds": 3600.0, "row_counts": "match"},
                                    **signed), "backup_source": "remote"})
    for i, (when, seconds, failed) in enumerate(zip(DEPLOYS, DEPLOY_SECONDS, FAILED_REQUESTS)):
        # the session ran 3.7 s longer than its steps (start-up, collection): the page shows the steps' time
        write_run(folder, record("deploy", when, duration=seconds + 3.7, step_seconds=(seconds - 10, 10.0),
                                 tag={"from": f"1.{i}.0", "to": f"1.{i + 1}.0"}, failed_requests=failed))
    write_run(folder, record("freshness", CONFIG_FAILED, "failed", project=None, duration=0.6,
                             outcome_text="freshness check FAILED at step 1 (local_backup)"))
    for when, dump, seconds in zip(BLOG_NIGHTS, BLOG_DUMP, BLOG_SECONDS):  # another stack, same reports/
        write_run(folder, record("backup", when, project="blog", backup_set=backup_set(dump), backup_seconds=seconds))
    write_run(folder, "{\"check\": \"backup\", ", name="backup/20261010T020000Z")
    older = record("backup", START - timedelta(days=50))
    del older["record_version"], older["project"], older["summary"]
    write_run(folder, json.dumps(older), name="backup/20261011T020000Z")
    write_run(folder, json.dumps({**record("backup", START), "record_version": 1}), name="backup/20261012T020000Z")
    wrong = record("backup", START, backup_set=backup_set(1), backup_seconds="fast")
    write_run(folder, json.dumps(wrong), name="backup/20261013T020000Z")
    state = folder.parent / "state"
    ledger.append_release(str(state), "shop", {"action": "deploy", "tag": "1.3.0", "outcome": "deployed"})
    (folder.parent / "a.yml").write_text("services: {}\n")
    (folder.parent / "ops.toml").write_text(
        f'[stack]\nproject = "shop"\nenvironment = "prod"\ncompose_files = ["a.yml"]\n'
        f'lock_dir = "{folder.parent / "locks"}"\n[deploy]\nstate_dir = "{state}"\n')
    history.rewrite_index(folder, keep_days=90, now=NOW, stack_config=load_config(folder.parent / "ops.toml"))
    return folder


@pytest.fixture(scope="module")
def drawn(reports) -> dict:
    """What Chromium laid out: per chart its circles and labels (position in the chart, value, colour,
    whether the circle is what a click at its centre hits), the skipped list, the table rows, links."""
    page = (reports / "index.html").read_text()
    probe = reports / "probe.html"
    probe.write_text(page.replace("</body>", f"<script>{PROBE.read_text()}</script></body>"))
    dom = chromium.dump_dom(probe)
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run in chromium: {dom[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def chart(drawn: dict, project: str, series: str) -> dict:
    [found] = [f for f in drawn["figures"] if f["project"] == project and f["series"] == series]
    return found


EXPECTED = [  # project, series, times, values, how the axis labels them; in the order of the page
    ("blog", "Dump size per backup", BLOG_NIGHTS, BLOG_DUMP, bytes_text),
    ("blog", "Backup duration", BLOG_NIGHTS, BLOG_SECONDS, seconds_text),
    ("shop", "Dump size per backup", NIGHTS, DUMP, bytes_text),
    ("shop", "Backup duration", NIGHTS, BACKUP_SECONDS, seconds_text),
    ("shop", "Offsite copy size", NIGHTS, OFFSITE, bytes_text),
    ("shop", "Drill RTO (recovery time) per month", DRILLS, RTO, seconds_text),
    ("shop", "Deploy duration", DEPLOYS, DEPLOY_SECONDS, seconds_text),
    ("shop", "Failed requests during a deploy under load", DEPLOYS[:2], FAILED_REQUESTS[:2], count_text),
]


@pytest.mark.parametrize("project, series, times, values, value_text", EXPECTED,
                         ids=[f"{p}-{s}" for p, s, *_ in EXPECTED])
def test_each_chart_draws_one_visible_point_per_run_in_order_of_time_and_value(
        drawn, project, series, times, values, value_text):
    figure = chart(drawn, project, series)
    points = figure["points"]
    assert len(points) == len(values)
    assert figure["width"] >= 600 and figure["height"] >= 200
    assert all(p["hit"] and p["w"] > 0 and p["h"] > 0 for p in points), "a point is hidden or not drawn"
    xs = [p["x"] for p in points]
    assert [p["value"] for p in sorted(points, key=lambda p: p["x"])] == values  # left to right is time order
    gaps = [b - a for a, b in zip(xs, xs[1:])]
    spans = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    for gap, span in zip(gaps, spans):  # x proportional to time: a missed night shows as a wider gap
        assert gap == pytest.approx(span / spans[0] * gaps[0], abs=1.5)
    for a in points:
        for b in points:
            if a["value"] > b["value"]:
                assert a["y"] < b["y"], f"{a['value']} is drawn lower than {b['value']}"
    top = max(values)
    [highest] = [p for p in points if p["value"] == top]
    labels = sorted(figure["labels"], key=lambda label: label["y"])
    assert labels[0]["text"] == value_text(top)  # the axis names the largest value, at its height
    assert abs(labels[0]["y"] + labels[0]["h"] / 2 - highest["y"]) < 6
    assert labels[-1]["text"] == value_text(0)
    assert all(label["w"] > 0 and label["x"] + label["w"] <= LEFT for label in labels)  # left of the plot


def test_a_failed_run_is_drawn_red_and_the_others_blue(drawn):
    points = sorted(chart(drawn, "shop", "Dump size per backup")["points"], key=lambda p: p["x"])
    assert [p["failed"] for p in points] == [i == FAILED_NIGHT for i in range(len(NIGHTS))]
    assert points[FAILED_NIGHT]["fill"] == rgb(FAILED_COLOUR)
    assert {p["fill"] for i, p in enumerate(points) if i != FAILED_NIGHT} == {rgb(PASSED_COLOUR)}


def test_a_drill_does_not_add_the_set_it_restored_to_the_backup_charts(drawn):
    assert len(chart(drawn, "shop", "Dump size per backup")["points"]) == len(NIGHTS)  # the 3 drills carry a set too
    blog = [f["series"] for f in drawn["figures"] if f["project"] == "blog"]
    assert blog == ["Dump size per backup", "Backup duration"]  # nothing offsite, no drill, no deploy


def test_every_run_is_a_row_newest_first_with_a_link_to_its_report(drawn, reports):
    rows = drawn["rows"]
    assert len(rows) == len(NIGHTS) + len(DRILLS) + len(DEPLOYS) + len(BLOG_DUMP) + 1
    started = [row[0] for row in rows]
    assert started == sorted(started, reverse=True)
    assert drawn["columns"] == COLUMNS == ["Started (UTC)", "Check", "Project", "Outcome", "TAG", "Duration", "Set",
                                           "RTO", "Signed off", "Summary", "Report"]
    assert ["2026-11-06 12:00", "deploy", "shop", "passed", "1.2.0 → 1.3.0", "52.0 s", "-", "-", "-",
            "deploy passed", "deploy/20261106T120000Z.html"] in rows  # the steps' time, as the step table adds it
    assert ["2026-11-03 02:00", "backup", "shop", "failed", "-", "60.0 s",
            "shop-prod-20261101, 43.0 MiB (offsite, encrypted)", "-", "-", "backup failed",
            "backup/20261103T020000Z.html"] in rows
    assert ["2026-11-01 02:00", "restore_drill", "shop", "passed", "-", "60.0 s",
            "shop-prod-20261101, 40.0 MiB (restored from offsite)", "6.0 min", "Ann Smith at 2026-11-01 09:30 UTC",
            "restore_drill passed", "restore_drill/20261101T020000Z.html"] in rows
    assert len(drawn["links"]) == len(rows)
    for link in drawn["links"]:
        target = Path(unquote(urlsplit(link).path))
        assert target.is_file() and target.parent.parent == reports, link  # relative, resolves in reports/


def test_a_run_whose_config_did_not_load_is_a_run_not_a_damaged_record(drawn):
    assert ["2026-11-04 08:00", "freshness", "(config did not load)", "failed", "-", "0.6 s", "-", "-", "-",
            "freshness check FAILED at step 1 (local_backup)", "freshness/20261104T080000Z.html"] in drawn["rows"]
    assert not any("freshness" in s for s in drawn["skipped"])


def test_the_status_strip_comes_first_with_each_dutys_age_against_its_limit(drawn):
    [strip] = drawn["strips"]
    assert strip["project"] == "shop" and strip["top"] < drawn["firstChartTop"]
    states = {d["duty"]: d["state"] for d in strip["duties"]}
    assert states == {"backup": "amber", "offsite": "amber", "drill": "green", "deploy": "green"}
    backup = next(d for d in strip["duties"] if d["duty"] == "backup")
    assert "last success: 2026-11-06 02:00 UTC" in backup["text"]
    assert "24.0 h ago, past 75% of the limit of 26.0 h" in backup["text"]
    for duty in strip["duties"]:
        assert duty["w"] > 150 and duty["h"] > 30
        assert duty["state"].upper() in duty["text"].upper()  # the state in words, not only in colour
        assert (duty["colour"], duty["background"]) == tuple(rgb(c) for c in STATE_COLOURS[duty["state"]])
    assert "serving 1.3.0 since" in strip["facts"][0] and "lock: free" in strip["facts"]
    assert "last drill: RTO 360.0 s, from offsite" in strip["facts"]


def test_the_x_axis_is_dated_ticks_placed_by_time(drawn):
    figure = chart(drawn, "shop", "Dump size per backup")
    ticks = figure["ticks"]
    assert len(ticks) >= 3 and [t["x"] for t in ticks] == sorted(t["x"] for t in ticks)
    assert all(t["w"] > 0 and t["y"] > max(p["y"] for p in figure["points"]) for t in ticks)  # below the plot
    points = sorted(figure["points"], key=lambda p: p["x"])
    first, last = points[0]["x"], points[-1]["x"]
    span = (NIGHTS[-1] - NIGHTS[0]).total_seconds()
    for tick in ticks:  # each tick at its own time on the same scale as the points
        when = datetime.fromisoformat(tick["when"])
        assert tick["x"] == pytest.approx(first + (when - NIGHTS[0]).total_seconds() / span * (last - first), abs=1.5)
    assert ticks[0]["text"] == datetime.fromisoformat(ticks[0]["when"]).strftime("%m-%d")
    assert points[-1]["x"] < figure["width"] - 24  # the axis runs on to "now", after the newest run


def test_the_limits_are_drawn_where_a_run_becomes_too_old(drawn):
    [limit] = chart(drawn, "shop", "Dump size per backup")["thresholds"]
    assert datetime.fromisoformat(limit["when"]) == NOW - timedelta(hours=26)
    points = sorted(chart(drawn, "shop", "Dump size per backup")["points"], key=lambda p: p["x"])
    assert points[-2]["x"] < limit["x"] < points[-1]["x"] and limit["h"] > 100
    assert limit["label"] == "limit: local backup 26 h old"
    [drill] = chart(drawn, "shop", "Drill RTO (recovery time) per month")["thresholds"]
    assert drill["label"] == "limit: restore drill 35 days old"
    assert chart(drawn, "blog", "Dump size per backup")["thresholds"] == []  # no config at hand for blog


def test_damaged_and_older_records_are_listed_as_skipped_with_the_reason(drawn):
    assert drawn["skipped"] == [
        "backup/20261010T020000Z.json: damaged: not JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 21 (char 20))",
        "backup/20261011T020000Z.json: from an older version: no record_version (written before the history "
        "existed)",
        "backup/20261012T020000Z.json: from an older version: record_version 1, the history reads 2",
        "backup/20261013T020000Z.json: damaged: summary.backup_seconds is a JSON string, not a number",
    ]


def test_the_page_without_the_probe_renders_the_same_charts(reports):
    """The page as shipped (no script at all) gives Chromium the same charts and circles."""
    dom = chromium.dump_dom(reports / "index.html")
    charts = re.findall(r'<section class="project" data-project="(\w+)">|<figure class="trend" data-series="([^"]+)">'
                        r'(.*?)</figure>', dom, re.S)
    drawn, project = [], None
    for section, title, body in charts:
        project = section or project
        if title:
            drawn.append((project, title, body.count('<circle class="point')))
    assert drawn == [(project, series, len(values)) for project, series, _, values, _ in EXPECTED]


def test_a_screenshot_has_the_window_size_and_shows_the_charts(reports, tmp_path):
    shot = chromium.screenshot(reports / "index.html", tmp_path / "history.png")
    png = shot.read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (width, height) == (1400, 2400)
