"""Rebuild reports/index.html from the records on disk: python -m runbook_plugin.history [REPORTS_DIR [OPS_CONFIG]].
With OPS_CONFIG, the page opens with that stack's status strip."""

import sys
from pathlib import Path

from procedures.errors import ConfigError
from procedures.load import load_config

from . import keep_days, rewrite_index

if __name__ == "__main__":
    reports = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "reports")
    if not reports.is_dir():
        sys.exit(f"opsuite: no reports directory {reports}: nothing to index")
    try:
        config = load_config(Path(sys.argv[2])) if len(sys.argv) > 2 else None
    except ConfigError as e:
        sys.exit(f"opsuite: {e}")
    print(f"opsuite: history: {rewrite_index(reports, keep_days(), stack_config=config)}")
