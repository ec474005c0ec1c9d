#!/usr/bin/env bash
# The whole test suite: unit tests, then tests against real disposable compose projects.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/pytest "$@"
