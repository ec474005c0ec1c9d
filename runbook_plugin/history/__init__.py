"""The history, reports/index.html: rebuilt from the records on disk after every check, so a record
pruned with its report leaves it too.

    records   one JSON record -> a Run, or the reason it is skipped (damaged, from an older version)
    status    a stack's duties against their limits, serving TAG, lock: `opsuite status` and the strip
    charts    a line chart as inline SVG on a time axis
    page      the status strip, the runs and the skipped records -> the HTML page
"""

import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from procedures.redact import redact

from .page import Skipped, render
from .records import Run, load_runs

INDEX = "index.html"
DEFAULT_KEEP_DAYS = 90
PRUNED_SUFFIXES = (".html", ".json")


def load(reports: Path) -> tuple[list[Run], list[Skipped]]:
    """Every record reports/*/*.json as a Run, and those skipped with the reason."""
    runs, skipped = load_runs(reports)
    return runs, [Skipped(name, reason) for name, reason in skipped]


def rewrite_index(reports: Path, keep_days: int | None = DEFAULT_KEEP_DAYS, now: datetime | None = None,
                  stack_config=None) -> Path:
    """Write reports/index.html from the records on disk, 0600, under a temporary name then renamed,
    so a reader (or a check finishing at the same time) never sees half a page. With the loaded config
    of a stack (the one whose check just ran), its status strip heads the page."""
    runs, skipped = load(reports)
    now = now or datetime.now(timezone.utc)
    stacks = []
    if stack_config is not None:
        from .status import status_of  # imported here: status reads the lock and ledger modules, records don't
        try:
            stacks.append(status_of(stack_config, reports, now=now, runs=runs))
        except Exception as e:  # the runs and charts are still worth a page; the strip's absence is said
            print(f"\nopsuite: WARNING: the status strip of {stack_config.stack.project} is NOT drawn: "
                  f"{redact(f'{type(e).__name__}: {e}')}")
    page = render(runs, skipped, now, keep_days, stacks)
    fd, partial = tempfile.mkstemp(dir=reports, prefix=f".{INDEX}.", suffix=".partial")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(page)
        os.replace(partial, reports / INDEX)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return reports / INDEX


def keep_days(environ=os.environ) -> int:
    """REPORT_KEEP_DAYS (default 90); refuses anything but a whole number of days."""
    value = environ.get("REPORT_KEEP_DAYS", "").strip() or str(DEFAULT_KEEP_DAYS)
    if not value.isdigit():
        raise ValueError(f"REPORT_KEEP_DAYS must be a whole number of days, not {value!r} "
                         "(fix /etc/opsuite/opsuite.env)")
    return int(value)


def prune_old_reports(check_dir: Path, days: int, now: float | None = None) -> list[Path]:
    """Delete check_dir/*.html and *.json whose age in whole days exceeds days (as `find -mtime +days`);
    nothing else: not other files, not subdirectories, not other checks' reports."""
    now = time.time() if now is None else now
    pruned = []
    for path in sorted(check_dir.iterdir()):
        if path.suffix in PRUNED_SUFFIXES and path.is_file() and not path.is_symlink():
            if int((now - path.stat().st_mtime) // 86400) > days:
                path.unlink()
                pruned.append(path)
    return pruned


def refresh_after_check(report: Path, root: Path, stack_config=None) -> None:
    """After a check wrote reports/<check>/<stamp>.html and its record: prune that check's old reports,
    then rewrite the index (with the status strip of stack_config's stack, when its config loaded).
    Never raises: a failure is a warning and the check's result stands. A report written elsewhere
    (--html=PATH outside reports/) is not part of the history."""
    reports = root.resolve() / "reports"
    report = report.resolve()
    if report.parent.parent != reports:
        return
    days = None
    try:
        days = keep_days()
        for path in prune_old_reports(report.parent, days):
            print(f"opsuite: pruned old report {path.relative_to(root)}")
    except (ValueError, OSError) as e:
        print(f"\nopsuite: WARNING: old reports in {report.parent} NOT pruned (the check's result stands): {e}")
    try:
        rewrite_index(reports, days, stack_config=stack_config)
        print(f"opsuite: history: {reports / INDEX}")
    except Exception as e:  # the run's own result is already recorded and must stand
        print(f"\nopsuite: WARNING: the history {reports / INDEX} was NOT rewritten "
              f"(the check's result stands): {redact(f'{type(e).__name__}: {e}')}")
