#!/usr/bin/env bash
# Schedule the ops checks on this machine: nightly backup (02:30) and monthly restore drill (first
# Sunday, 04:00). Run as root from the installed checkout:
#
#   sudo bash scripts/install-schedule.sh            # systemd timers (default)
#   sudo bash scripts/install-schedule.sh --cron     # /etc/cron.d/opsuite instead
#
# Options:
#   --cron        install deploy/cron/opsuite as ROOT/etc/cron.d/opsuite instead of the systemd units
#   --root DIR    install under DIR instead of / (staging, tests); nothing is enabled then
#   --repo DIR    absolute path of the checkout the schedule runs (default: this checkout)
#
# systemd: deploy/systemd/* go to ROOT/etc/systemd/system/ with @REPO@ replaced; when ROOT is /
# and systemd is running, the two timers are enabled and started, otherwise the commands are printed.
# Both modes create ROOT/etc/opsuite/opsuite.env (NOTIFY_URL, REPORT_KEEP_DAYS) from a commented
# template if it is missing; an existing one is never touched. Safe to run again.
set -euo pipefail
SRC="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"

die() { echo "install-schedule: $*" >&2; exit 2; }
say() { echo "install-schedule: $*"; }

ARGS="$*"
MODE=systemd
ROOT=/
REPO="$SRC"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --cron) MODE=cron; shift ;;
        --systemd) MODE=systemd; shift ;;
        --root) [[ $# -ge 2 ]] || die "--root needs a directory"; ROOT="$2"; shift 2 ;;
        --root=*) ROOT="${1#*=}"; shift ;;
        --repo) [[ $# -ge 2 ]] || die "--repo needs a directory"; REPO="$2"; shift 2 ;;
        --repo=*) REPO="${1#*=}"; shift ;;
        -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (usage: scripts/install-schedule.sh [--cron] [--root DIR] [--repo DIR])" ;;
    esac
done

[[ "$REPO" == /* ]] || die "--repo must be an absolute path, not '$REPO'"
REPO="${REPO%/}"
[[ -n "$REPO" ]] || die "--repo must not be /"
# The path goes unquoted into ExecStart=, WorkingDirectory= and a cron line: keep it plain.
[[ "$REPO" =~ ^[A-Za-z0-9/._+-]+$ ]] \
    || die "repo path '$REPO' has spaces or special characters; move the checkout (e.g. to /opt/opsuite)"
[[ -d "$ROOT" ]] || die "--root $ROOT is not a directory"
ROOT="$(cd "$ROOT" && pwd)"
if [[ "$ROOT" == / ]]; then
    [[ "$(id -u)" -eq 0 ]] || die "installing into /etc needs root: sudo bash scripts/install-schedule.sh $ARGS"
    [[ -f "$REPO/scripts/run-check.sh" && -x "$REPO/.venv/bin/pytest" ]] \
        || die "$REPO is not a set-up opsuite checkout (needs scripts/run-check.sh and .venv/bin/pytest; run bash scripts/bootstrap.sh there)"
fi
DEST() { if [[ "$ROOT" == / ]]; then echo "$1"; else echo "$ROOT$1"; fi; }

# install_rendered SRC DEST MODE: copy with @REPO@ replaced; only rewrites when the content changed.
install_rendered() {
    local src="$1" dest="$2" mode="$3" tmp
    mkdir -p "$(dirname "$dest")"
    tmp="$(mktemp "$(dirname "$dest")/.opsuite.XXXXXX")"
    sed "s|@REPO@|$REPO|g" "$src" > "$tmp"
    if [[ -f "$dest" ]] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"; chmod "$mode" "$dest"; say "unchanged $dest"
    else
        chmod "$mode" "$tmp"; mv -f "$tmp" "$dest"; say "installed $dest"
    fi
}

ENV_FILE="$(DEST /etc/opsuite/opsuite.env)"
install_env_template() {
    if [[ -e "$ENV_FILE" ]]; then
        say "kept existing $ENV_FILE"
        return
    fi
    mkdir -p "$(dirname "$ENV_FILE")"
    (umask 077 && cat > "$ENV_FILE" <<'EOF'
# opsuite settings for the scheduled ops checks (scripts/run-check.sh), read by the systemd unit
# opsuite-check@.service (EnvironmentFile=) and by the cron entries in /etc/cron.d/opsuite.
# Plain KEY=value lines, no quotes needed, no shell syntax. Mode 0600: a notify URL may hold a token.

# GET this URL after every run, with ?check=NAME&status=success|failure&exit_code=N appended
# (e.g. a healthchecks/ntfy/webhook URL). Empty or unset: no notification.
#NOTIFY_URL=https://hc.example.com/ping/your-token

# Keep each check's HTML reports (reports/<check>/*.html) this many days (default 90).
#REPORT_KEEP_DAYS=90

# The ops config of the stack the checks run against (default: the checkout's ops.toml), e.g. a
# stack adopted with docs/ADOPTING.md.
#OPSUITE_CONFIG=/srv/zenops/ops.toml
EOF
    )
    say "created $ENV_FILE (set NOTIFY_URL there to be told about each run)"
}

other_mode_warning() {
    local f
    for f in "$@"; do
        [[ -e "$f" ]] && say "WARNING: $f exists from the other mode; remove it, or both will run the checks"
    done
    return 0
}

if [[ "$MODE" == systemd ]]; then
    unit_dir="$(DEST /etc/systemd/system)"
    for unit in opsuite-check@.service opsuite-backup.timer opsuite-restore-drill.timer; do
        install_rendered "$SRC/deploy/systemd/$unit" "$unit_dir/$unit" 0644
    done
    install_env_template
    other_mode_warning "$(DEST /etc/cron.d/opsuite)"
    enable=(systemctl enable --now opsuite-backup.timer opsuite-restore-drill.timer)
    if [[ "$ROOT" == / ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        systemctl daemon-reload
        "${enable[@]}"
        say "enabled; next runs:"
        systemctl list-timers --no-pager 'opsuite-*' || true
    else
        say "not enabling (root is $ROOT or systemd is not running); on the target machine run:"
        echo "    systemctl daemon-reload && ${enable[*]}"
    fi
    say "run one now: systemctl start opsuite-check@backup.service; logs: journalctl -u 'opsuite-check@*'"
else
    install_rendered "$SRC/deploy/cron/opsuite" "$(DEST /etc/cron.d/opsuite)" 0644
    install_env_template
    other_mode_warning "$(DEST /etc/systemd/system/opsuite-backup.timer)" \
                       "$(DEST /etc/systemd/system/opsuite-restore-drill.timer)"
    say "cron picks up /etc/cron.d/opsuite by itself; logs: /var/log/opsuite-backup.log, /var/log/opsuite-restore-drill.log"
fi
say "evidence: $REPO/reports/<check>/<UTC stamp>.html"
