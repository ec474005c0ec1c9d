#!/usr/bin/env bash
# The whole test suite: unit tests, then tests against real disposable compose projects.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Two workers, each taking whole modules (a module's stack and its ordered tests stay together):
# stack tests mostly wait on containers, so two at once nearly halve the run on two cores.
.venv/bin/pytest --numprocesses=2 --dist=loadfile "$@"
