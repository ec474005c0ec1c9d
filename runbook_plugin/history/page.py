"""reports/index.html from the runs: the trends of each stack as charts, every run as a row, and the
records that were skipped with the reason. One self-contained file: no script, no external asset."""

import html
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from procedures.redact import redact

from .charts import FAILED_COLOUR, PASSED_COLOUR, Point, bytes_text, count_text, line_chart, seconds_text
from .records import Run


@dataclass(frozen=True)
class Skipped:
    file: str  # relative to reports/
    reason: str


@dataclass(frozen=True)
class Series:
    title: str
    value: object  # Run -> the measurement or None
    value_text: object
    date_format: str = "%Y-%m-%d"


SERIES = [
    Series("Dump size per backup", lambda r: r.dump_bytes, bytes_text),
    Series("Backup duration", lambda r: r.backup_seconds, seconds_text),
    Series("Offsite copy size", lambda r: r.offsite_bytes, bytes_text),
    Series("Drill RTO (recovery time) per month", lambda r: r.rto_seconds, seconds_text, "%Y-%m"),
    Series("Deploy duration", lambda r: r.duration_seconds if r.check == "deploy" else None, seconds_text),
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
"""


def render(runs: list[Run], skipped: list[Skipped], generated_at: datetime, keep_days: int | None) -> str:
    """The whole page: charts per stack (project), the runs newest first, then the skipped records."""
    runs = sorted(runs, key=lambda r: r.started_at, reverse=True)
    pruning = (f"Reports and their records older than {keep_days} days are pruned (REPORT_KEEP_DAYS), so their "
               "runs leave this page." if keep_days is not None else "Old reports are not pruned.")
    body = [f"<h1>Ops history</h1>",
            f'<p class="about">{len(runs)} runs from the records in reports/, rewritten after every check; '
            f"this one at {generated_at:%Y-%m-%d %H:%M} UTC. {pruning}</p>"]
    if skipped:
        body.append(_skipped(skipped))
    for project in sorted({r.project for r in runs}):
        body.append(_trends(project, [r for r in runs if r.project == project]))
    body.append(_table(runs))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ops history</title>"
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def _trends(project: str, runs: list[Run]) -> str:
    figures, unmeasured = [], []
    for series in SERIES:
        points = [Point(r.started_at, series.value(r), r.failed, f"{r.check}, {r.outcome}")
                  for r in runs if series.value(r) is not None]
        if points:
            figures.append(f'<figure class="trend" data-series="{html.escape(series.title)}">'
                           f"<figcaption>{html.escape(series.title)}</figcaption>"
                           f"{line_chart(series.title, points, series.value_text, series.date_format)}</figure>")
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


def _table(runs: list[Run]) -> str:
    rows = ["<h2>Runs</h2>", '<table class="runs"><thead><tr><th>Started (UTC)</th><th>Check</th><th>Project</th>'
            "<th>Outcome</th><th>TAG</th><th>Duration</th><th>Summary</th><th>Report</th></tr></thead><tbody>"]
    for r in runs:
        report = (f'<a href="{quote(r.report)}">{html.escape(r.report)}</a>' if r.report
                  else f"report missing (record {html.escape(r.file)})")
        rows.append(f'<tr class="run"><td>{r.started_at:%Y-%m-%d %H:%M}</td><td>{html.escape(r.check)}</td>'
                    f"<td>{html.escape(r.project)}</td><td class=\"{r.outcome}\">{_outcome(r)}</td>"
                    f"<td>{html.escape(r.tag or '-')}</td><td>{seconds_text(r.duration_seconds)}</td>"
                    f"<td>{html.escape(redact(r.outcome_text or ''))}</td><td>{report}</td></tr>")
    if not runs:
        rows.append('<tr><td colspan="8">No runs recorded yet.</td></tr>')
    return "\n".join(rows + ["</tbody></table>"])


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
