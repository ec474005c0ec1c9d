#!/usr/bin/env bash
# Run one ops check unattended (systemd timer or cron), e.g. nightly: scripts/run-check.sh backup
#
#   scripts/run-check.sh CHECK [pytest args...]
#
# Runs `.venv/bin/pytest ops_checks/CHECK.py [args...]` from the repo root (the root conftest writes
# the HTML evidence to reports/CHECK/<UTC stamp>.html), then:
#   - prunes that check's own reports and records older than REPORT_KEEP_DAYS days (default 90):
#     only reports/CHECK/*.html and *.json, nothing else;
#   - if NOTIFY_URL is set, sends GET NOTIFY_URL?check=CHECK&status=success|failure&exit_code=N
#     (a failed notification is logged and never changes the exit code; the URL may carry a token,
#     so only its scheme://host is ever printed);
#   - prints one final line: "opsuite: CHECK succeeded|FAILED (exit N), report: PATH".
# Exits with pytest's exit code; 2 for a bad invocation or set-up (before pytest runs; notified too
# once CHECK is a valid name, e.g. a timer for a check that is not deployed yet).
#
# Settings come from the environment. systemd passes /etc/opsuite/opsuite.env (EnvironmentFile=);
# cron sets OPSUITE_ENV_FILE, which is read here as plain KEY=value lines (never executed as shell)
# and only fills variables that are not already set.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

say() { echo "opsuite: $*"; }
die() { echo "opsuite: $*" >&2; exit 2; }
# A set-up problem once CHECK is a valid name (missing file, no venv, bad setting): also notify,
# so an unattended run that cannot even start is loud too.
setup_failed() {
    echo "opsuite: $*" >&2
    notify failure 2
    say "$CHECK FAILED (exit 2), report: none written"
    exit 2
}

notify() {  # notify STATUS EXIT_CODE; never fails the script
    [[ -n "${NOTIFY_URL:-}" ]] || return 0
    local py
    py=.venv/bin/python3
    [[ -x "$py" ]] || py=python3
    # procedures/notify.py sends the GET. The URL travels in the environment, never in argv (visible
    # in ps) or in output.
    OPSUITE_CHECK="$CHECK" OPSUITE_STATUS="$1" OPSUITE_EXIT_CODE="$2" "$py" -m procedures.notify \
        || say "WARNING: notification failed (the check's result stands)"
}


if [[ -n "${OPSUITE_ENV_FILE:-}" && -r "$OPSUITE_ENV_FILE" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line%$'\r'}"
        [[ "$line" =~ ^[[:space:]]*(NOTIFY_URL|REPORT_KEEP_DAYS)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
        key="${BASH_REMATCH[1]}" value="${BASH_REMATCH[2]}"
        value="${value%"${value##*[![:space:]]}"}"                 # trailing blanks
        if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then value="${BASH_REMATCH[1]}"; fi
        [[ -n "${!key:-}" ]] || export "$key=$value"
    done < "$OPSUITE_ENV_FILE"
fi

CHECK="${1:-}"
[[ -n "$CHECK" ]] || die "usage: scripts/run-check.sh CHECK [pytest args...]   (CHECK: a file name in ops_checks/ without .py, e.g. backup)"
shift
[[ "$CHECK" =~ ^[a-z][a-z_]*$ ]] \
    || die "bad check name '$CHECK': use the name of a file in ops_checks/ without .py (lowercase letters and _), e.g. backup"
[[ -f "ops_checks/$CHECK.py" ]] \
    || setup_failed "no ops_checks/$CHECK.py in $PWD: use one of: $(cd ops_checks && ls -1 [a-z]*.py 2>/dev/null | sed 's/\.py$//' | tr '\n' ' ')"
[[ -x .venv/bin/pytest ]] || setup_failed "no .venv/bin/pytest in $PWD: set up the repo first (bash scripts/bootstrap.sh)"
KEEP_DAYS="${REPORT_KEEP_DAYS:-90}"
[[ "$KEEP_DAYS" =~ ^[0-9]+$ ]] || setup_failed "REPORT_KEEP_DAYS must be a whole number of days, not '$KEEP_DAYS' (fix /etc/opsuite/opsuite.env)"

started="$(mktemp)"
trap 'rm -f "$started"' EXIT
say "running ops_checks/$CHECK.py at $(date -u +%Y-%m-%dT%H:%M:%SZ) in $PWD"

rc=0
.venv/bin/pytest "ops_checks/$CHECK.py" "$@" || rc=$?

report="$(find "reports/$CHECK" -maxdepth 1 -name '*.html' -newer "$started" 2>/dev/null | sort | tail -n 1 || true)"
report="${report:+$PWD/$report}"

if [[ -d "reports/$CHECK" ]]; then
    find "reports/$CHECK" -maxdepth 1 \( -name '*.html' -o -name '*.json' \) -mtime "+$KEEP_DAYS" -print -delete \
        | sed 's/^/opsuite: pruned old report /' \
        || say "WARNING: pruning old reports in reports/$CHECK failed (the check's result stands)"
fi

status=success
[[ "$rc" -eq 0 ]] || status=failure
notify "$status" "$rc"


if [[ "$rc" -eq 0 ]]; then
    say "$CHECK succeeded, report: ${report:-none written}"
else
    say "$CHECK FAILED (exit $rc), report: ${report:-none written}"
fi
exit "$rc"
