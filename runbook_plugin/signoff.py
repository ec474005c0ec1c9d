"""Sign a run's evidence off after reading it: `opsuite sign REPORT --by NAME`.

Only a complete green run can be signed, and only once. The name and the time (UTC) go into the
record's `summary` (`signed_off_by`, `signed_off_at`) and into the report's summary header, both
rewritten under a partial name then renamed (0600): a reader never sees half a file. The report is
written first and the record last, so the record (what every reader trusts) never says "signed"
while the report does not. The name is what the operator typed: the suite does not check who it is.
"""

import json
from pathlib import Path

from procedures.errors import UsageError
from procedures.private_files import write_private
from procedures.redact import redact

from . import header, history
from .summary import now_iso, signable

MIN_RECORD_VERSION = 2


def _read_record(report: Path) -> dict:
    """The JSON record beside an HTML report; refuses anything that is not one."""
    if not report.is_file():
        raise UsageError(f"{report}: no such report; give the path of a run's HTML report, "
                         "e.g. reports/restore_drill/20261206T021500Z.html")
    record_path = report.with_suffix(".json")
    if report.suffix != ".html" or not record_path.is_file():
        raise UsageError(f"{report} is not an ops check's report: it needs its record {record_path.name} beside it "
                         "(give the .html file under reports/<check>/)")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:
        raise UsageError(f"{record_path} is not a readable record ({e}): sign the report of a run this suite "
                         "recorded") from e
    if not isinstance(record, dict) or not isinstance(record.get("summary"), dict) \
            or not isinstance(record.get("record_version"), int) or record["record_version"] < MIN_RECORD_VERSION:
        raise UsageError(f"{record_path} is not a record this version can sign (needs record_version "
                         f">= {MIN_RECORD_VERSION} and a summary): run the check again and sign its new report")
    return record


def _refuse_unsignable(report: Path, record: dict) -> None:
    summary = record["summary"]
    if summary.get("signed_off_by"):
        raise UsageError(f"{report} is already signed off by {summary['signed_off_by']}"
                         + (f" at {summary['signed_off_at']}" if summary.get("signed_off_at") else "")
                         + ": a sign-off is never replaced")
    if not signable(record):
        ran = (f", {record.get('steps_run')} of {record.get('steps_defined')} steps ran"
               if "steps_defined" in record else "")
        raise UsageError(f"{report} is not a complete green run (outcome {record.get('outcome')}{ran}): only a "
                         "complete green run can be signed off; fix what it reports and sign the next run")


def _refresh_history(report: Path) -> None:
    """reports/index.html shows the sign-off too; a failure to rewrite it never undoes the sign-off."""
    reports = report.resolve().parent.parent
    if reports.name != "reports":
        return
    try:
        history.rewrite_index(reports, history.keep_days())
    except Exception as e:  # the sign-off is recorded and stands
        print(f"opsuite: WARNING: the history {reports / history.INDEX} was NOT rewritten: {redact(str(e))}")


def sign(report: Path, by: str) -> dict:
    """Record `by` and now as the sign-off of a complete green run's report, in its record and its header;
    refuses (UsageError) a missing file, a file that is not a report with its record, a run that is not
    complete and green, one already signed, and an empty name. Returns what was recorded."""
    report = Path(report)
    name = " ".join((by or "").split())
    if not name:
        raise UsageError("--by needs the name of the person who signs the run off, e.g. --by \"Ann Smith\"")
    record = _read_record(report)
    _refuse_unsignable(report, record)
    page = report.read_text(encoding="utf-8")
    if f"<section id='{header.HEADER_ID}'" not in page:
        raise UsageError(f"{report} has no summary header: it is not a report this suite wrote")
    record["summary"].update(signed_off_by=redact(name), signed_off_at=now_iso())
    write_private(report, header.insert_first_in_body(page, header.render(record)))
    write_private(report.with_suffix(".json"), json.dumps(record, indent=2, sort_keys=True) + "\n")
    _refresh_history(report)
    return {"report": str(report.resolve()), "record": str(report.with_suffix(".json").resolve()),
            "check": record.get("check"), "outcome_text": record["summary"].get("outcome_text"),
            "signed_off_by": record["summary"]["signed_off_by"], "signed_off_at": record["summary"]["signed_off_at"]}
