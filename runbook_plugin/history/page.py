"""reports/index.html from the runs: a status strip per stack whose config is at hand (each duty's last
success and its age against its limit, green/amber/red: status.py, the same dict `opsuite status`
prints), the trends of each stack as charts on a time axis with the limits drawn, every run as a row
(runs whose config did not load included), and the records that were skipped with the reason.
One self-contained file: no script, no external asset."""

import html
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from procedures.redact import redact

from .charts import (FAILED_COLOUR, PASSED_COLOUR, Point, Threshold, bytes_text, count_text, line_chart,
                     seconds_text)
from .records import Run

NO_STACK = "(config did not load)"
STATE_COLOURS = {"green": ("#1b6e20", "#e8f5e9"), "amber": ("#8a5300", "#fff3e0"), "red": ("#b71c1c", "#ffebee"),
                 "off": ("#555555", "#eeeeee"), "none": ("#555555", "#eeeeee")}


@dataclass(frozen=True)
class Skipped:
    file: str  # relative to reports/
    reason: str


@dataclass(frozen=True)
class Series:
    title: str
    value: object  # Run -> the measurement or None
    value_text: object
    duty: str | None = None  # the duty whose limit is drawn on it (status.py's duty names)


SERIES = [
    Series("Dump size per backup", lambda r: r.dump_bytes, bytes_text, "backup"),
    Series("Backup duration", lambda r: r.backup_seconds, seconds_text, "backup"),
    Series("Offsite copy size", lambda r: r.offsite_bytes, bytes_text, "offsite"),
    Series("Drill RTO (recovery time) per month", lambda r: r.rto_seconds, seconds_text, "drill"),
    Series("Deploy duration", lambda r: r.seconds if r.check == "deploy" else None, seconds_text),
    Series("Failed requests during a deploy under load", lambda r: r.failed_requests, count_text),
]

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1320px; }
h1 { margin-bottom: 4px; } h2 { margin-top: 28px; border-bottom: 1px solid #ccc; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 12px 24px; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 2px; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #444; }
.unmeasured, .legend { color: #666; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; }
tr:nth-child(even) td { background: #f4f6f8; } th { background: #e3e8ee; }
td.passed { color: #1b6e20; font-weight: 600; } td.failed { color: #c62828; font-weight: 600; }
td.incomplete { color: #b86e00; font-weight: 600; }
.skipped { border: 2px solid #c77700; background: #fff6e5; padding: 8px 16px; }
.status { margin: 12px 0 4px; } .status h2 { margin-top: 8px; }
.strip { display: flex; flex-wrap: wrap; gap: 8px; }
.duty { border: 2px solid; border-radius: 6px; padding: 6px 10px; min-width: 210px; flex: 1 1 210px; }
.duty .name { font-weight: 700; } .duty .state { font-weight: 700; text-transform: uppercase; float: right; }
.duty .age, .duty .last { display: block; }
.facts { margin: 6px 0 0; padding-left: 18px; } .facts li { margin: 1px 0; }
svg.chart text.threshold-label { fill: #b86e00; }
"""


def render(runs: list[Run], skipped: list[Skipped], generated_at: datetime, keep_days: int | None,
           stacks: list[dict] = ()) -> str:
    """The whole page: the status strip of each stack in stacks (status.py's dicts), charts per stack
    (project), the runs newest first, then the skipped records."""
    runs = sorted(runs, key=lambda r: r.started_at, reverse=True)
    statuses = {s["project"]: s for s in stacks}
    pruning = (f"Reports and their records older than {keep_days} days are pruned (REPORT_KEEP_DAYS), so their "
               "runs leave this page." if keep_days is not None else "Old reports are not pruned.")
    body = [f"<h1>Ops status and history</h1>",
            f'<p class="about">{len(runs)} runs from the records in reports/, rewritten after every check; '
            f"this one at {generated_at:%Y-%m-%d %H:%M} UTC. {pruning}</p>"]
    body += [_strip(status) for status in stacks]
    if skipped:
        body.append(_skipped(skipped))
    for project in sorted({r.project for r in runs if r.project is not None}):
        body.append(_trends(project, [r for r in runs if r.project == project], generated_at, statuses.get(project)))
    body.append(_table(runs))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ops status and history"
            f"</title><style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def _when(text: str | None) -> str:
    try:
        return f"{datetime.fromisoformat(text).astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
    except (TypeError, ValueError):
        return "never"


def _strip(status: dict) -> str:
    """One stack's duties as coloured cells (the state in words too, not only in colour), then its facts."""
    cells = []
    for duty in status["duties"]:
        ink, paper = STATE_COLOURS[duty["state"]]
        cells.append(f'<div class="duty {duty["state"]}" data-duty="{html.escape(duty["duty"])}" '
                     f'data-state="{duty["state"]}" style="border-color:{ink};background:{paper};color:{ink}">'
                     f'<span class="state">{duty["state"]}</span><span class="name">{html.escape(duty["label"])}</span>'
                     f'<span class="last">last success: {_when(duty["last_success"])}</span>'
                     f'<span class="age">{html.escape(redact(duty["text"]))}</span></div>')
    facts = []
    serving = status.get("serving")
    if serving:
        facts.append(f"serving {serving['tag']} since {_when(serving['since'])}" if serving.get("certain")
                     else f"serving: unknown ({serving['why']})")
    else:
        facts.append("serving: no release recorded in the ledger")
    held = status["lock"]
    if held["held"] is None:  # the lock folder is not readable by this user
        facts.append(f"lock: {held.get('text')}")
    else:
        facts.append("lock: free" if not held["held"] else f"lock: held by {held.get('text')}"
                     + (f" (stale: {held['stale']})" if held.get("stale") else ""))
    drill = status.get("drill")
    if drill:
        rto = f"{drill['rto_seconds']:.1f} s" if drill.get("rto_seconds") is not None else "unknown"
        facts.append(f"last drill: RTO {rto}, from {drill.get('from') or 'unknown'}")
    backup = status.get("backup")
    if backup:
        size = bytes_text(backup["size_bytes"]) if backup.get("size_bytes") is not None else "size unknown"
        facts.append(f"newest set {backup['set']}: {size}, offsite {'yes' if backup['offsite'] else 'no'}, "
                     f"encrypted {'yes' if backup['encrypted'] else 'no'}")
    if status.get("no_runs_yet"):
        facts.insert(0, "no runs yet: no record in reports/ and nothing in the release ledger")
    facts += [f"note: {note}" for note in status.get("notes", [])]
    items = "".join(f"<li>{html.escape(redact(fact))}</li>" for fact in facts)
    return (f'<section class="status" data-project="{html.escape(status["project"])}">'
            f'<h2>Status: {html.escape(status["project"])} ({html.escape(status["environment"])})</h2>'
            f'<div class="strip">{"".join(cells)}</div><ul class="facts">{items}</ul>'
            f'<p class="legend">Green: within the limit; amber: past {status["amber_at"]:.0%} of it; red: past it, '
            "never done, or its last run failed (limits: [freshness] in the ops config).</p></section>")


def _thresholds(series: Series, status: dict | None, now: datetime) -> tuple[Threshold, ...]:
    if status is None or series.duty is None:
        return ()
    [duty] = [d for d in status["duties"] if d["duty"] == series.duty] or [None]
    if duty is None or duty.get("limit_hours") is None or duty["state"] == "off":
        return ()
    limit = timedelta(hours=duty["limit_hours"])
    return (Threshold(now - limit, f"limit: {duty['label'].lower()} {_limit_text(limit)} old"),)


def _limit_text(limit: timedelta) -> str:
    hours = limit / timedelta(hours=1)
    return f"{hours / 24:g} days" if hours >= 72 else f"{hours:g} h"


def _trends(project: str, runs: list[Run], now: datetime, status: dict | None) -> str:
    figures, unmeasured = [], []
    for series in SERIES:
        points = [Point(r.started_at, series.value(r), r.failed, f"{r.check}, {r.outcome}")
                  for r in runs if series.value(r) is not None]
        if points:
            chart = line_chart(series.title, points, series.value_text, end=max(now, points[-1].when),
                               thresholds=_thresholds(series, status, now))
            figures.append(f'<figure class="trend" data-series="{html.escape(series.title)}">'
                           f"<figcaption>{html.escape(series.title)}</figcaption>{chart}</figure>")
        else:
            unmeasured.append(series.title)
    section = [f'<section class="project" data-project="{html.escape(project)}">',
               f"<h2>Trends: {html.escape(project)}</h2>"]
    if figures:
        section += [f'<p class="legend">One point per run: <span style="color:{PASSED_COLOUR}">&#9679; passed</span>, '
                    f'<span style="color:{FAILED_COLOUR}">&#9679; failed</span>; a point\'s tooltip names its run.</p>',
                    f'<div class="charts">{"".join(figures)}</div>']
    if unmeasured:
        section.append(f'<p class="unmeasured">Not measured yet: {html.escape("; ".join(unmeasured))}.</p>')
    return "\n".join(section + ["</section>"])


COLUMNS = ["Started (UTC)", "Check", "Project", "Outcome", "TAG", "Duration", "Set", "RTO", "Signed off",
           "Summary", "Report"]


def _table(runs: list[Run]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    rows = ["<h2>Runs</h2>", f'<table class="runs"><thead><tr>{head}</tr></thead><tbody>']
    for r in runs:
        report = (f'<a href="{quote(r.report)}">{html.escape(r.report)}</a>' if r.report
                  else f"report missing (record {html.escape(r.file)})")
        rows.append(f'<tr class="run"><td>{r.started_at:%Y-%m-%d %H:%M}</td><td>{html.escape(r.check)}</td>'
                    f"<td>{html.escape(r.project or NO_STACK)}</td><td class=\"{r.outcome}\">{_outcome(r)}</td>"
                    f"<td>{html.escape(r.tag or '-')}</td>"
                    f'<td title="{_duration_note(r)}">{seconds_text(r.seconds)}</td>'
                    f"<td>{_set(r)}</td><td>{seconds_text(r.rto_seconds) if r.rto_seconds is not None else '-'}</td>"
                    f"<td>{_signed(r)}</td>"
                    f"<td>{html.escape(redact(r.outcome_text or ''))}</td><td>{report}</td></tr>")
    if not runs:
        rows.append(f'<tr><td colspan="{len(COLUMNS)}">No runs recorded yet.</td></tr>')
    return "\n".join(rows + ["</tbody></table>"])


def _duration_note(run: Run) -> str:
    if run.steps_seconds is None:
        return html.escape(f"start to finish (no step ran): {run.duration_seconds} s")
    return html.escape(f"the steps' times added up, as the report's step table lists them; start to finish "
                       f"{run.duration_seconds} s")


def _set(run: Run) -> str:
    """The set a run took or restored: name, size, where it is; "-" when none."""
    if run.set_name is None:
        return "-"
    where = ("restored from " + run.restored_from) if run.restored_from else (
        "offsite, encrypted" if run.set_offsite and run.set_encrypted else "offsite, NOT encrypted"
        if run.set_offsite else "local only")
    size = f", {bytes_text(run.set_bytes)}" if run.set_bytes is not None else ""
    return f'<span class="set-name">{html.escape(run.set_name)}</span>{html.escape(size)} ({html.escape(where)})'


def _signed(run: Run) -> str:
    if not run.signed_off_by:
        return "-"
    at = f" at {_when(run.signed_off_at)}" if run.signed_off_at else ""
    return html.escape(redact(f"{run.signed_off_by}{at}"))


def _outcome(run: Run) -> str:
    """passed, failed, or incomplete with how many steps ran: an incomplete run is never shown as a pass."""
    if run.incomplete is None:
        return run.outcome
    return html.escape(run.outcome if run.outcome == "failed" else "incomplete") + \
        f' <span class="steps">({html.escape(run.incomplete)})</span>'


def _skipped(skipped: list[Skipped]) -> str:
    items = "".join(f"<li><code>{html.escape(s.file)}</code>: {html.escape(redact(s.reason))}</li>"
                    for s in sorted(skipped, key=lambda s: s.file))
    counted = f"{len(skipped)} record" + ("" if len(skipped) == 1 else "s")
    return (f'<div class="skipped"><h2>{counted} skipped</h2><p>These records are not in the '
            f'charts or the table below:</p><ul class="skipped-records">{items}</ul></div>')
