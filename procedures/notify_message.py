"""The title and body of a scheduled check's notification, from its JSON record (pure: no I/O)."""

from dataclasses import dataclass

from .redact import redact

_ERROR_CHARS = 300  # one line a phone shows whole


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    failed: bool


def one_line(text: str, limit: int = _ERROR_CHARS) -> str:
    """The first non-blank line of text with its blanks collapsed, cut at limit characters."""
    line = next((line for line in str(text).splitlines() if line.strip()), "")
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def failure_of(record: dict) -> tuple[str, str, list[str]] | None:
    """(step, error, advice) of a failed run: the record's summary.failure when it has one (records
    since record_version 2), else its first failed step."""
    summary = record.get("summary") if isinstance(record.get("summary"), dict) else {}
    failure = summary.get("failure")
    if isinstance(failure, dict) and failure.get("step"):
        advice = failure.get("advice") if isinstance(failure.get("advice"), list) else []
        return str(failure["step"]), str(failure.get("error") or ""), [str(a) for a in advice if a]
    steps = record.get("steps") if isinstance(record.get("steps"), list) else []
    for step in (s for s in steps if isinstance(s, dict)):
        if step.get("outcome") == "failed" or step.get("error"):
            return str(step.get("step") or "?"), str(step.get("error") or ""), []
    return None


def build(check: str, exit_code: int, project: str, record: dict | None = None, report: str | None = None,
          setup_error: str | None = None, record_problem: str | None = None) -> Message:
    """The message for one run of check: its outcome by exit code, the details from its record (None
    when it wrote none: a check that could not start gives setup_error instead). Everything redacted."""
    record = record if isinstance(record, dict) else {}
    project = str(record.get("project") or project)
    incomplete = record.get("outcome") == "incomplete"  # not every step ran: never told as a success
    failed = exit_code != 0 or incomplete
    summary = record.get("summary") if isinstance(record.get("summary"), dict) else {}
    if setup_error is not None:
        verdict, outcome = "could not start", f"could not start (exit {exit_code}): {one_line(setup_error)}"
    else:
        verdict = "FAILED" if exit_code != 0 else "INCOMPLETE" if incomplete else "succeeded"
        outcome = f"{one_line(summary.get('outcome_text') or record.get('outcome') or verdict)} (exit {exit_code})"
    lines = [f"Stack: {project}", f"Check: {check}", f"Outcome: {outcome}"]
    if record.get("host"):
        lines.append(f"Host: {record['host']}")
    if record.get("started_at"):
        took = record.get("duration_seconds")
        lines.append(f"Started: {record['started_at']}" + (f" ({took:.0f} s)" if isinstance(took, (int, float)) else ""))
    failure = failure_of(record) if failed else None
    if failure:
        step, error, advice = failure
        lines.append(f"Failed step: {one_line(step)}")
        lines.append(f"Error: {one_line(error) or 'none recorded'}")
        lines += [f"Advice: {one_line(a)}" for a in advice]
    elif failed and setup_error is None:
        lines.append("Failed step: none recorded (see the report)")
    if record_problem:
        lines.append(f"Record: {one_line(record_problem)}")
    lines.append(f"Report: {record.get('report') or report or 'none written'}")
    return Message(title=redact(f"opsuite {project}: {check} {verdict}"),
                   body=redact("\n".join(lines)), failed=failed)
