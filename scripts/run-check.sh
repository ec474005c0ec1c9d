#!/usr/bin/env bash
# Run one ops check unattended (systemd timer or cron), e.g. nightly: scripts/run-check.sh backup
#
#   scripts/run-check.sh CHECK [pytest args...]
#
# Runs `.venv/bin/pytest ops_checks/CHECK.py [args...]` from the repo root (the root conftest writes
# the HTML evidence to reports/CHECK/<UTC stamp>.html), then:
#   - (the check itself, through the plugin, has pruned its own reports and records older than
#     REPORT_KEEP_DAYS days, default 90, and rewritten reports/index.html: docs/EVIDENCE.md section 2)
#   - notifies through the ops config's [notify] (Apprise URLs read from the stack's env file or a
#     secret file, never argv): on failure always, on success when [notify] on_success = true; the
#     message carries the stack, the check, the outcome, the failed step, its error and the report
#     path, from the run's JSON record. The config is --ops-config in the args, else $OPSUITE_CONFIG,
#     else ops.toml. A failed notification is logged and never changes the exit code;
#   - prints one final line: "opsuite: CHECK succeeded|FAILED (exit N), report: PATH".
# Exits with pytest's exit code; 2 for a bad invocation or set-up (before pytest runs; notified too
# once CHECK is a valid name, e.g. a timer for a check that is not deployed yet).
#
# Settings come from the environment. systemd passes /etc/opsuite/opsuite.env (EnvironmentFile=);
# cron sets OPSUITE_ENV_FILE, which is read here as plain KEY=value lines (never executed as shell)
# and only fills variables that are not already set.
set -euo pipefail
umask 077  # reports, records and anything pytest or docker's CLI writes here: root's only
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

say() { echo "opsuite: $*"; }
die() { echo "opsuite: $*" >&2; exit 2; }
# A set-up problem once CHECK is a valid name (missing file, no venv, bad setting): also notify,
# so an unattended run that cannot even start is loud too.
setup_failed() {
    echo "opsuite: $*" >&2
    notify 2 --setup-error "$*"
    say "$CHECK FAILED (exit 2), report: none written"
    exit 2
}

notify() {  # notify EXIT_CODE [--record PATH] [--report PATH] [--setup-error TEXT]; never fails the script
    local code="$1"
    shift
    if [[ -n "${NOTIFY_URL:-}" ]]; then
        say "WARNING: NOTIFY_URL is no longer read (nothing was sent to it): put the URL, in Apprise's syntax" \
            "(https://host/path becomes jsons://host/path), in the stack's env file as e.g. NOTIFY_URLS=..." \
            "and name it in the ops config: [notify] urls_variable = \"NOTIFY_URLS\" (docs/BACKUPS.md, Notifications)"
    fi
    if [[ ! -x .venv/bin/python ]]; then
        say "WARNING: cannot notify: no .venv/bin/python in $PWD (bash scripts/bootstrap.sh)"
        return 0
    fi
    # The check name, exit code and paths are not secrets; the URLs stay in the env file or secret file.
    .venv/bin/python -m procedures.notify "$CHECK" "$code" ${OPS_CONFIG:+--ops-config "$OPS_CONFIG"} "$@" \
        || say "WARNING: notification failed (the check's result stands)"
}

# The ops config the check runs with, as the pytest plugin finds it: --ops-config in the args, else
# $OPSUITE_CONFIG, else its ops.toml default.
ops_config_of() {
    local arg next=no
    for arg in "$@"; do
        if [[ "$next" == yes ]]; then printf '%s' "$arg"; return; fi
        case "$arg" in
            --ops-config) next=yes ;;
            --ops-config=*) printf '%s' "${arg#--ops-config=}"; return ;;
        esac
    done
    printf '%s' "${OPSUITE_CONFIG:-}"
}

if [[ -n "${OPSUITE_ENV_FILE:-}" && -r "$OPSUITE_ENV_FILE" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line%$'\r'}"
        [[ "$line" =~ ^[[:space:]]*(NOTIFY_URL|REPORT_KEEP_DAYS|OPSUITE_CONFIG)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
        key="${BASH_REMATCH[1]}" value="${BASH_REMATCH[2]}"
        value="${value%"${value##*[![:space:]]}"}"                 # trailing blanks
        if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then value="${BASH_REMATCH[1]}"; fi
        [[ -n "${!key:-}" ]] || export "$key=$value"
    done < "$OPSUITE_ENV_FILE"
fi

CHECK="${1:-}"
[[ -n "$CHECK" ]] || die "usage: scripts/run-check.sh CHECK [pytest args...]   (CHECK: a file name in ops_checks/ without .py, e.g. backup)"
shift
OPS_CONFIG="$(ops_config_of "$@")"
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

record="${report%.html}.json"
if [[ -n "$report" && -f "$record" ]]; then
    notify "$rc" --record "$record" --report "$report"
else
    notify "$rc" ${report:+--report "$report"}
fi


if [[ "$rc" -eq 0 ]]; then
    say "$CHECK succeeded, report: ${report:-none written}"
else
    say "$CHECK FAILED (exit $rc), report: ${report:-none written}"
fi
exit "$rc"
