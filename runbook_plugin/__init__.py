"""The pytest plugin that turns ops_checks/ modules into runbooks with evidence.

    options   command-line options, the target stack's config (loaded once), the `ops` fixture
    steps     order from the runbook definitions, --mode selection, numbering, --plan, blocking
    completeness  how many of the steps the runbook defines ran: a run where some did not is INCOMPLETE
    evidence  the HTML report: path, title, Step column, environment table, redaction
    record    the JSON record beside the report (record_version 2, with its summary), the summary
              header first in the report, and both copied offsite; `runbook_summary` (the one place
              a check gives its run's facts), summary (the record's summary), header (its HTML)
    history   reports/index.html rebuilt from the records after every check (old reports pruned first)
    progress  live progress of long steps (dump, upload, restore) on the terminal, never in the report
    failures  a failed step's message first, above its traceback

State lives in `config.stash` (keys in `state`); the root conftest.py only registers this package.
"""

pytest_plugins = ["runbook_plugin.options", "runbook_plugin.steps", "runbook_plugin.completeness",
                  "runbook_plugin.evidence", "runbook_plugin.record", "runbook_plugin.progress",
                  "runbook_plugin.failures"]
