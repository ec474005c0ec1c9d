#!/usr/bin/env bash
# The whole test suite: unit tests, then tests against real disposable compose projects.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Three workers, each taking whole modules (a module's stack and its ordered tests stay together):
# stack tests mostly wait on containers, so three at once on two cores keep both cores busy.
# --no-loadscope-reorder: modules go out longest first by the run-time record (testkit/module_order.py), not by
# their number of tests; the JUnit XML is what refreshes that record.
.venv/bin/pytest --numprocesses=3 --dist=loadfile --no-loadscope-reorder --junitxml=reports/junit.xml "$@"
