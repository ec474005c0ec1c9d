"""The summary header: static HTML put first in the report's <body>, above pytest-html's environment
table and counts (which its script draws from embedded data), so it reads without JavaScript.

Every value is redacted and escaped here; the header has inline styles only, so the report stays
one self-contained file.
"""

import html
import re
from pathlib import Path

from procedures.redact import redact

from .summary import incomplete_text

HEADER_ID = "ops-summary"
_BODY = re.compile(r"<body\b[^>]*>", re.I)
# A drill's results checklist (seed 004's template): each line done when its runbook step passed.
DRILL_CHECKLIST = (("Restore completed successfully", "restore"), ("Table count verified", "row_counts"),
                   ("Sample queries executed", "samples"), ("Schema version matches", "revision"))
_STYLE = {"passed": "border:3px solid #2a7d2a;background:#eef8ee", "failed": "border:3px solid #a00;background:#fdeeee",
          "incomplete": "border:3px solid #b86e00;background:#fff4e0",
          # a run that passed with warnings (an irreversible deploy, a recreated service): never the plain green
          "warned": "border:3px solid #b86e00;background:#f4f8e8"}
HISTORY = "../index.html"  # reports/index.html, from reports/<check>/<stamp>.html


def text(value) -> str:
    """A value as safe, redacted HTML text."""
    return html.escape(redact(str(value)))


def yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def _bytes(n: int | None) -> str:
    if n is None:
        return "?"
    size, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    return f"{n} bytes" if unit == "B" else f"{size:.1f} {unit} ({n} bytes)"


def _change(name: str, pair: dict | None) -> str | None:
    if not pair:
        return None
    before, after = pair.get("from"), pair.get("to")
    return f"{name} {before} (unchanged)" if before == after else f"{name} {before or '(none)'} -> {after or '(none)'}"


def _seconds(value) -> str:
    return "not measured" if value is None else f"{value} s"


def what_changed(summary: dict) -> str:
    parts = [p for p in (_change("TAG", summary.get("tag")), _change("schema revision", summary.get("revision"))) if p]
    return "; ".join(parts + list(summary.get("changed") or [])) or "nothing"


def backup_line(backup: dict | None, seconds) -> str | None:
    if not backup:
        return None
    return (f"{backup['name']}: {_bytes(backup['size_bytes'])}, dump {_bytes(backup['dump_bytes'])}, "
            f"sha256 {backup['sha256']}; offsite: {yes_no(backup['offsite'])}"
            + (f", {_bytes(backup['offsite_bytes'])}" if backup.get('offsite_bytes') is not None else "")
            + f"; encrypted (crypt remote): {yes_no(backup['encrypted'])}"
            + (f"; backup took {seconds} s" if seconds is not None else ""))


def _rto_detail(drill: dict) -> str:
    if not drill.get("rto_from"):
        return ""
    alone = drill.get("restore_seconds")
    return (f" (from the decision to {drill.get('rto_to') or 'verified'}, choosing and downloading the set included"
            + (f"; the restore alone {alone} s" if alone is not None else "") + ")")


def _rpo_detail(drill: dict) -> str:
    """The data-loss window's meaning and its verdict against the schedule, when the drill measured them."""
    if "rpo_set" not in drill:
        return ""
    if drill.get("rpo_seconds") is None:
        return " (no verified offsite set: a lost server loses every set)" if drill.get("rto_seconds") else ""
    limit, within = drill.get("rpo_limit_seconds"), drill.get("rpo_within")
    verdict = "" if limit is None else (f"; limit {round(limit / 3600, 2)} h ([freshness] offsite_max_age_hours): "
                                        + ("within" if within else "OVER THE LIMIT"))
    return (f", the data-loss window: age of the newest verified offsite set {drill.get('rpo_set')} when the run "
            f"ended{verdict}")


def drill_line(drill: dict | None) -> str | None:
    if not drill:
        return None
    rpo = drill.get("rpo_seconds")
    return (f"RTO {_seconds(drill.get('rto_seconds'))}{_rto_detail(drill)}; RPO {_seconds(rpo)}"
            + (f" ({round(rpo / 3600, 2)} h{_rpo_detail(drill)})" if rpo is not None else _rpo_detail(drill))
            + f"; row counts: {drill.get('row_counts') or 'not compared'}")


def restored_from_line(source: dict | None) -> str | None:
    """Where a restore read its set: the local backups, or the remote (decrypted through crypt, or not)."""
    if not source:
        return None
    if source.get("where") != "offsite":
        return "local backup directory (this server)"
    through = source.get("decrypted_through")
    return (f"offsite: downloaded from {source.get('remote') or 'the remote'}, "
            + (f"decrypted through {through}" if through else "NOT encrypted (not a crypt remote)"))


def checklist(record: dict) -> list[tuple[str, str]]:
    """Seed 004's results checklist from the steps: done, FAILED, or not run."""
    outcomes = {s.get("name"): s["outcome"] for s in record["steps"]}
    marks = {"passed": "done", "failed": "FAILED"}
    lines = [(item, marks.get(outcomes.get(step), "not run")) for item, step in DRILL_CHECKLIST]
    return lines + [("No major errors", "done" if record["outcome"] == "passed" else "FAILED")]


def steps_line(record: dict) -> str | None:
    """"12 of 12 steps ran", or the INCOMPLETE line naming what did not run; None for an older record."""
    if "steps_defined" not in record:
        return None
    if record.get("complete"):
        return f"{record['steps_run']} of {record['steps_defined']} steps ran (every step the runbook defines)"
    return f"{incomplete_text(record, 0)}; this run is not a pass and no freshness rule counts it"


def steps_table(record: dict) -> str:
    """Every step with its outcome, time and error or blocker, as a plain table (pytest-html draws its own
    results table with JavaScript only)."""
    head = "".join(f"<th style='text-align:left;padding:1px 10px 1px 0'>{h}</th>"
                   for h in ("Step", "Outcome", "Seconds", "Error or reason"))
    rows = "".join(
        f"<tr data-step-outcome='{text(s['outcome'])}'><td style='padding:1px 10px 1px 0'>{text(s['step'])}</td>"
        f"<td style='padding:1px 10px 1px 0'>{text(s['outcome'])}</td><td style='padding:1px 10px 1px 0'>"
        f"{text(s.get('seconds', ''))}</td><td>{text(s.get('error') or s.get('blocked_by') or '')}</td></tr>"
        for s in record.get("steps") or [])
    return (f"<table data-fact='steps_table' style='border-collapse:collapse;font-size:90%'><tr>{head}</tr>{rows}"
            "</table>") if rows else text("(no step ran)")


def history_link(report: str | None) -> str | None:
    """The relative link to the history page for a report kept in reports/<check>/; None elsewhere."""
    return HISTORY if report and Path(report).parent.parent.name == "reports" else None


def signed_off_text(summary: dict) -> str:
    if not summary.get("signed_off_by"):
        return "(not signed off: opsuite sign REPORT --by NAME, after the run)"
    at = summary.get("signed_off_at")
    return f"{summary['signed_off_by']}" + (f" at {at}" if at else "")


def _items(lines: list[str], empty: str = "None") -> str:
    if not lines:
        return text(empty)
    return "<ul style='margin:0;padding-left:1.2em'>" + "".join(f"<li>{text(line)}</li>" for line in lines) + "</ul>"


def _row(fact: str, label: str, value_html: str) -> str:
    return (f"<tr data-fact='{fact}'><th style='text-align:left;vertical-align:top;padding:2px 12px 2px 0'>"
            f"{text(label)}</th><td style='padding:2px 0'>{value_html}</td></tr>")


def _failure(failure: dict) -> str:
    advice = failure.get("advice") or []
    return (f"<b>{text(failure['step'])}</b><br><code data-fact='error'>{text(failure['error'])}</code>"
            + (f"<br>What to do: {_items(advice)}" if advice else ""))


def render(record: dict) -> str:
    """The header of one record (its summary and run facts), as a static HTML section."""
    summary = record["summary"]
    warnings = summary.get("warnings") or []
    rows = [("changed", "What changed", text(what_changed(summary)))]
    if warnings:
        rows.insert(0, ("warnings", "WARNINGS", "<b style='color:#a00'>" + _items(warnings) + "</b>"))
    if steps_line(record):
        rows.insert(0, ("steps", "Steps run", text(steps_line(record))))
    if summary.get("restored_from"):
        rows.append(("restored_from", "Restored from", text(restored_from_line(summary["restored_from"]))))
    if summary.get("backup_set"):
        rows.append(("backup_set", "Backup set", text(backup_line(summary["backup_set"], summary.get("backup_seconds")))))
    if summary.get("drill"):
        rows.append(("drill", "Recovery (RTO / RPO)", text(drill_line(summary["drill"]))))
    if summary.get("failed_requests") is not None:
        rows.append(("failed_requests", "Failed requests under load", text(summary["failed_requests"])))
    if record.get("check") == "restore_drill":
        rows += [("backup_file", "Backup file", text(record.get("backup_file", "(none chosen)"))),
                 ("backup_date", "Backup date", text(record.get("backup_taken_at", "(none chosen)"))),
                 ("results", "Results", _items([f"{item}: {mark}" for item, mark in checklist(record)]))]
    rows += [("run_time", "Run time", text(f"{record['started_at']} -> {record['finished_at']} UTC "
                                           f"({record['duration_seconds']} s)")),
             ("operator", "Tested by (operator@host)", text(f"{record['operator']}@{record['host']}")),
             ("stack", "Stack", text(record.get("project") or "(no ops config)"))]
    if summary.get("failure"):
        rows.append(("failure", "Failure", _failure(summary["failure"])))
    rows += [("issues", "Issues found", _items(record.get("issues_found") or [])),
             ("actions", "Actions required", _items(summary["actions_required"])),
             ("signed_off", "Signed off", text(signed_off_text(summary))),
             ("steps_table", "Steps", steps_table(record))]
    link = history_link(record.get("report"))
    if link:
        rows.append(("history", "History", f"<a href='{link}'>all runs of this suite (reports/index.html)</a>"))
    outcome = record["outcome"]
    style = _STYLE["warned"] if outcome == "passed" and warnings else _STYLE.get(outcome, _STYLE["failed"])
    heading = summary["outcome_text"] + (f", with {len(warnings)} WARNING{'S' * (len(warnings) > 1)}"
                                         if warnings and outcome == "passed" else "")
    return (f"<section id='{HEADER_ID}' data-outcome='{text(outcome)}' data-warnings='{len(warnings)}' "
            f"style='{style};color:#111;padding:8px 14px;margin:0 0 16px 0;font-family:sans-serif'>"
            f"<h2 data-fact='outcome' style='margin:4px 0 8px 0'>{text(heading)}</h2>"
            f"<table style='border-collapse:collapse'>{''.join(_row(*row) for row in rows)}</table></section>")


def insert_first_in_body(page: str, header: str) -> str:
    """The page with header as the first thing in <body> (a header already there is replaced); refuses
    a page without a <body> tag."""
    page = re.sub(rf"<section id='{HEADER_ID}'.*?</section>", "", page, count=1, flags=re.S)
    body = _BODY.search(page)
    if body is None:
        raise ValueError("the report has no <body> tag: the summary header was not added")
    return page[:body.end()] + header + page[body.end():]
