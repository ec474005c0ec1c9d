#!/usr/bin/env bash
# The main job against the bundled example stack: set up, install it on first run, point its
# `gdrive:` remote at the local SFTP stand-in, then run the runbook checks one after another:
# health, a verified backup with offsite copy and retention, a restore drill into a throwaway
# server (of the local copy, then of the offsite one), a deploy of 1.1.0, a rollback and the
# freshness check. Every check leaves HTML evidence under reports/<check>/ and rewrites the history,
# reports/index.html. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
pytest=.venv/bin/pytest
if ! docker volume inspect zenops-example_pgdata >/dev/null 2>&1; then
  $pytest ops_checks/install.py --tag=1.0.0
  .venv/bin/python -m example.seed ops.toml
elif stopped_at=$(.venv/bin/python -m example.last_release ops.toml) && [ -n "$stopped_at" ]; then
  # Installed but down (a reboot, a plain `docker compose down`): start it at the release that served last.
  # install never migrates a database it did not create.
  $pytest ops_checks/install.py --tag="$stopped_at"
fi
.venv/bin/python -m example.offsite_standin ops.toml
$pytest ops_checks/stack_health.py
$pytest ops_checks/backup.py
$pytest ops_checks/restore_drill.py
$pytest ops_checks/restore_drill.py --from-remote
$pytest ops_checks/deploy.py --tag="${DEPLOY_TAG:-1.1.0}"
$pytest ops_checks/rollback.py
$pytest ops_checks/freshness.py
echo "evidence:"
ls -1t reports/*/*.html | head -9
echo "history: $PWD/reports/index.html"
