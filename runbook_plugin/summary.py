"""The record's `summary` (record_version 2): the run in plain words, from the steps' outcomes and the
facts its check's run contributed (`runbook_summary`), for the report's header and for the readers of
the records (history, freshness, notifications).

Fields (docs/EVIDENCE.md section 1): outcome_text, tag, revision, backup_set, backup_seconds, drill,
restored_from, changed, failure, actions_required, warnings, signed_off_by, signed_off_at, failed_requests.
"""

import traceback
from datetime import datetime, timezone

from procedures.redact import redact

RECORD_VERSION = 2
FACT_FIELDS = ("tag", "revision", "backup_set", "backup_seconds", "drill", "restored_from", "changed",
               "failed_requests")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def signable(document: dict) -> bool:
    """Only a complete green run can be signed off (before the run with --signed-off-by, or after it)."""
    return document.get("outcome") == "passed" and document.get("complete", True) is True


class SummaryFacts:
    """The one place a check tells the summary what its run found: `read(reader, run)` registers a
    reader of the run, called when the session ends (so a failed run's facts are read too)."""

    def __init__(self):
        self._readers: list = []
        self.errors: list[str] = []

    def read(self, reader, run) -> None:
        self._readers.append((reader, run))

    def collect(self) -> dict:
        """Every reader's facts, merged in registration order; a reader that raises is named, never fatal."""
        merged: dict = {}
        for reader, run in self._readers:
            try:
                merged.update(reader(run))
            except Exception as e:  # the record must still be written: the summary says what it missed
                where = traceback.extract_tb(e.__traceback__)[-1]
                self.errors.append(f"summary facts of {getattr(reader, '__name__', reader)} not read: "
                                   f"{type(e).__name__}: {e} ({where.filename}:{where.lineno})")
        return merged


def _label(step: dict) -> str:
    """"step 5 (migrate)" from a record step ("step 5: ...", runbook name "migrate")."""
    number = step["step"].split(":", 1)[0]
    return f"{number} ({step['name']})" if step.get("name") else number


def incomplete_text(document: dict, exitstatus: int) -> str | None:
    """"INCOMPLETE: 2 of 12 steps ran (not run: step 3 (x), ...)" for a run where not every step ran."""
    if document.get("complete", True):
        return None
    not_run = document.get("steps_not_run") or []
    why = " (pytest was interrupted)" if exitstatus == 2 else ""
    shown = ", ".join(not_run[:5]) + (f" and {len(not_run) - 5} more" if len(not_run) > 5 else "")
    return (f"INCOMPLETE: {document.get('steps_run')} of {document.get('steps_defined')} steps ran{why}"
            + (f"; not run: {shown}" if shown else ""))


def failed_steps(document: dict) -> list[dict]:
    return [s for s in document["steps"] if s["outcome"] == "failed"]


def rerun_advice(check: str) -> str:
    return (f"run every step: pytest ops_checks/{check}.py without --collect-only, -k, --deselect, -x or --lf; "
            "this run is not a pass")


def first_failure(steps: list[dict], outcome: str, exitstatus: int, advice: list[str],
                  incomplete: str | None = None) -> dict | None:
    """The first failed step with its one-line error and the procedure's advice; for a run that failed
    without a failed step (an error after the steps, or steps that never ran), the run itself."""
    if outcome == "passed":
        return None
    failed = [s for s in steps if s["outcome"] == "failed"]
    if not failed and incomplete:
        return {"step": "the run", "error": incomplete, "advice": advice}
    if not failed:
        return {"step": "the run", "error": f"pytest exited with status {int(exitstatus)} after its steps",
                "advice": advice}
    return {"step": failed[0]["step"], "label": _label(failed[0]), "error": failed[0].get("error") or "failed",
            "advice": advice}


def outcome_text(what: str, failure: dict | None, detail: str | None, incomplete: str | None = None) -> str:
    if failure is None:
        return f"{what} succeeded"
    if failure.get("label") is None and incomplete:
        return f"{what} {incomplete.split(';')[0]}: not a pass"
    where = failure.get("label") or failure["step"]
    return (f"{what} FAILED at {where}" + (f"; {incomplete.split(';')[0]}" if incomplete else "")
            + (f"; {detail}" if detail else ""))


def actions_required(issues: list[str], advice: list[str], warnings: list[str], errors: list[str]) -> list[str]:
    """Failures and warnings as actions for the operator; an empty list reads "None"."""
    return ([f"Fix the failure, then run the check again: {issue}" for issue in issues]
            + [f"Follow the procedure's advice: {line}" for line in advice]
            + [f"Warning: {warning}" for warning in warnings] + errors)


def build(document: dict, facts: dict, *, exitstatus: int, warnings: list[str], errors: list[str],
          signed_off_by: str | None) -> dict:
    """The summary of one record (document: the record's other fields, steps included)."""
    advice = [str(a) for a in facts.get("advice") or []]
    what = facts.get("what") or f"{document['check']} check"
    incomplete = incomplete_text(document, exitstatus)
    if incomplete and not failed_steps(document):  # after a failure, fixing it is the advice
        advice = advice + [rerun_advice(document["check"])]
    failure = first_failure(document["steps"], document["outcome"], exitstatus, advice, incomplete)
    summary = {field: facts.get(field) for field in FACT_FIELDS}
    summary["changed"] = summary["changed"] or []
    risks = [str(r) for r in facts.get("risks") or []]
    # what the run itself warns about (an irreversible deploy, a recreated service), then the config's
    run_warnings = [str(w) for w in facts.get("warnings") or []] + list(warnings)
    # the record's, which names an incomplete run (record.build_record); a risk is a warning, not a failure
    issues = [i for i in document["issues_found"] if i not in risks]
    summary.update({
        "outcome_text": outcome_text(what, failure, facts.get("outcome_detail"), incomplete),
        "failure": failure,
        "actions_required": actions_required(issues, advice if failure else [], run_warnings + risks, errors)
        + ([f"--signed-off-by={redact(signed_off_by)} was NOT recorded: only a complete green run can be signed off"]
           if signed_off_by and not signable(document) else []),
        "warnings": run_warnings,
        "signed_off_by": redact(signed_off_by) if signed_off_by and signable(document) else None,
        "signed_off_at": now_iso() if signed_off_by and signable(document) else None,
    })
    return summary
