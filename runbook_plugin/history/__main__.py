"""Rebuild reports/index.html from the records on disk: python -m runbook_plugin.history [REPORTS_DIR]."""

import sys
from pathlib import Path

from . import keep_days, rewrite_index

if __name__ == "__main__":
    reports = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "reports")
    if not reports.is_dir():
        sys.exit(f"opsuite: no reports directory {reports}: nothing to index")
    print(f"opsuite: history: {rewrite_index(reports, keep_days())}")
