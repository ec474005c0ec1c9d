#!/usr/bin/env bash
# The main job against the bundled example stack: set up, bring the stack up at a release, and
# run the ops checks; HTML evidence lands under reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
TAG="${TAG:-1.0.0}"
.venv/bin/pytest ops_checks/install.py --tag="$TAG"
.venv/bin/pytest ops_checks/stack_health.py
echo "evidence:"; ls -1t reports/*/*.html | head -5
