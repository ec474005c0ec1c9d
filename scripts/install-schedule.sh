#!/usr/bin/env bash
# Schedule the ops checks of one stack on this machine: nightly backup (02:30), nightly freshness check
# (06:00, after the backup, whether it passed or failed) and monthly restore drill (first Sunday, 04:00),
# all with the ops config given. Run as root from the installed checkout, once per stack:
#
#   sudo bash scripts/install-schedule.sh --config /srv/zenops/ops.toml           # systemd timers (default)
#   sudo bash scripts/install-schedule.sh --config /srv/zenops/ops.toml --cron    # /etc/cron.d instead
#
# Options:
#   --config PATH absolute path of the stack's ops config (default: the checkout's ops.toml); it is
#                 loaded here, so a config that would fail at 02:30 is refused now
#   --cron        install deploy/cron/opsuite as ROOT/etc/cron.d/opsuite-PROJECT instead of the systemd units
#   --root DIR    install under DIR instead of / (staging, tests); nothing is enabled then
#   --repo DIR    absolute path of the checkout the schedule runs (default: this checkout)
#
# PROJECT is the config's [stack] project: two stacks on one host get their own schedules side by side.
# systemd: the templates deploy/systemd/* go to ROOT/etc/systemd/system/ with @REPO@ replaced, and
# ROOT/etc/opsuite/stacks/PROJECT.env names the config (OPSUITE_CONFIG=PATH) for the instances
# opsuite-{backup,freshness,restore-drill}@PROJECT; when ROOT is / and systemd is running, the three
# timers are enabled and started, otherwise the commands are printed. Both modes create
# ROOT/etc/opsuite/opsuite.env (REPORT_KEEP_DAYS, OPSUITE_CONFIG) from a commented template if it is
# missing; an existing one is never touched. Safe to run again.
set -euo pipefail
SRC="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"

die() { echo "install-schedule: $*" >&2; exit 2; }
say() { echo "install-schedule: $*"; }

ARGS="$*"
MODE=systemd
ROOT=/
REPO="$SRC"
CONFIG=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --cron) MODE=cron; shift ;;
        --systemd) MODE=systemd; shift ;;
        --root) [[ $# -ge 2 ]] || die "--root needs a directory"; ROOT="$2"; shift 2 ;;
        --root=*) ROOT="${1#*=}"; shift ;;
        --repo) [[ $# -ge 2 ]] || die "--repo needs a directory"; REPO="$2"; shift 2 ;;
        --repo=*) REPO="${1#*=}"; shift ;;
        --config) [[ $# -ge 2 ]] || die "--config needs the path of an ops config"; CONFIG="$2"; shift 2 ;;
        --config=*) CONFIG="${1#*=}"; shift ;;
        -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (usage: scripts/install-schedule.sh [--config PATH] [--cron] [--root DIR] [--repo DIR])" ;;
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
CONFIG="${CONFIG:-$REPO/ops.toml}"
[[ "$CONFIG" == /* ]] || die "--config must be an absolute path, not '$CONFIG'"
# The path goes unquoted into an environment file and a cron line, like the repo's.
[[ "$CONFIG" =~ ^[A-Za-z0-9/._+-]+$ ]] \
    || die "config path '$CONFIG' has spaces or special characters; move the config (e.g. to /srv/zenops/ops.toml)"
# The stack's name from its own config, loaded as the checks load it (refused now, not at 02:30).
PY="$SRC/.venv/bin/python3"
[[ -x "$PY" ]] || PY=python3
STACK="$(cd "$SRC" && "$PY" -c '
import sys
from pathlib import Path
from procedures.load import load_config
from procedures.errors import ConfigError
try:
    print(load_config(Path(sys.argv[1])).stack.project)
except ConfigError as e:
    sys.exit(f"install-schedule: {e}")
' "$CONFIG")" || die "the ops config $CONFIG does not load (above); fix it, then run this again"
DEST() { if [[ "$ROOT" == / ]]; then echo "$1"; else echo "$ROOT$1"; fi; }

# install_rendered SRC DEST MODE: copy with @REPO@ replaced; only rewrites when the content changed.
install_rendered() {
    local src="$1" dest="$2" mode="$3" tmp
    mkdir -p "$(dirname "$dest")"
    tmp="$(mktemp "$(dirname "$dest")/.opsuite.XXXXXX")"
    sed -e "s|@REPO@|$REPO|g" -e "s|@CONFIG@|$CONFIG|g" -e "s|@STACK@|$STACK|g" "$src" > "$tmp"
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
    # A dangling link is not -e, and `>` would create the file it points at.
    [[ ! -L "$ENV_FILE" ]] || die "$ENV_FILE is a symbolic link to nothing; remove it, then run this again"
    mkdir -p "$(dirname "$ENV_FILE")"
    (umask 077 && set -o noclobber && cat > "$ENV_FILE" <<'EOF'
# opsuite settings for the scheduled ops checks of every stack (scripts/run-check.sh), read by the
# systemd units opsuite-*@.service (EnvironmentFile=) and by the cron entries in /etc/cron.d/opsuite-*.
# Plain KEY=value lines, no quotes needed, no shell syntax. Mode 0600.

# Notifications are set per stack in its ops config: [notify] names the variable of the stack's env
# file (or a secret file) holding Apprise URLs (docs/BACKUPS.md section 8, Notifications).

# Keep each check's HTML reports (reports/<check>/*.html) this many days (default 90).
#REPORT_KEEP_DAYS=90

# The scheduled checks of each stack run with the config named by install-schedule.sh --config
# (/etc/opsuite/stacks/PROJECT.env for systemd, the cron line for cron); this one serves only a
# check run by hand through run-check.sh (default: the checkout's ops.toml).
#OPSUITE_CONFIG=/srv/zenops/ops.toml
EOF
    )
    say "created $ENV_FILE (notifications: [notify] in each stack's ops config, docs/BACKUPS.md section 8)"
}

other_mode_warning() {
    local f
    for f in "$@"; do
        [[ -e "$f" ]] && say "WARNING: $f exists from the other mode; remove it, or both will run the checks"
    done
    return 0
}

# install_stack_env: ROOT/etc/opsuite/stacks/STACK.env, the config this stack's units run with.
install_stack_env() {
    local dest tmp
    dest="$(DEST "/etc/opsuite/stacks/$STACK.env")"
    tmp="$(mktemp)"
    printf '%s\n' "# Written by scripts/install-schedule.sh --config: the ops config of stack $STACK's scheduled checks" \
        "# (opsuite-backup@$STACK, opsuite-freshness@$STACK, opsuite-restore-drill@$STACK). Run it again to change it." \
        "OPSUITE_CONFIG=$CONFIG" > "$tmp"
    install_rendered "$tmp" "$dest" 0644
    rm -f "$tmp"
}

CHECKS=(backup freshness restore-drill)
if [[ "$MODE" == systemd ]]; then
    unit_dir="$(DEST /etc/systemd/system)"
    for check in "${CHECKS[@]}"; do
        for kind in service timer; do
            install_rendered "$SRC/deploy/systemd/opsuite-$check@.$kind" "$unit_dir/opsuite-$check@.$kind" 0644
        done
    done
    install_stack_env
    install_env_template
    other_mode_warning "$(DEST "/etc/cron.d/opsuite-$STACK")"
    if [[ -e "$(DEST /etc/cron.d/opsuite)" ]]; then
        say "WARNING: $(DEST /etc/cron.d/opsuite) is from an earlier, single-stack schedule; remove it, or its" \
            "backup runs beside this one's"
    fi
    # The single-stack units of earlier versions would run a second backup beside this one's.
    for old in opsuite-backup.timer opsuite-restore-drill.timer opsuite-check@.service; do
        if [[ -e "$unit_dir/$old" ]]; then
            say "WARNING: $unit_dir/$old is from an earlier, single-stack schedule; stop it" \
                "(systemctl disable --now opsuite-backup.timer opsuite-restore-drill.timer) and remove it"
        fi
    done
    enable=(systemctl enable --now "opsuite-backup@$STACK.timer" "opsuite-freshness@$STACK.timer"
            "opsuite-restore-drill@$STACK.timer")
    if [[ "$ROOT" == / ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        systemctl daemon-reload
        "${enable[@]}"
        say "enabled; next runs:"
        systemctl list-timers --no-pager "opsuite-*@$STACK.timer" || true
    else
        say "not enabling (root is $ROOT or systemd is not running); on the target machine run:"
        echo "    systemctl daemon-reload && ${enable[*]}"
    fi
    say "stack $STACK runs with $CONFIG; run one now: systemctl start opsuite-backup@$STACK.service;" \
        "logs: journalctl -u 'opsuite-*@$STACK.service'"
else
    install_rendered "$SRC/deploy/cron/opsuite" "$(DEST "/etc/cron.d/opsuite-$STACK")" 0644
    install_env_template
    other_mode_warning "$(DEST "/etc/systemd/system/timers.target.wants/opsuite-backup@$STACK.timer")"
    if [[ -e "$(DEST /etc/cron.d/opsuite)" ]]; then
        say "WARNING: $(DEST /etc/cron.d/opsuite) is from an earlier, single-stack schedule; remove it, or its" \
            "backup runs beside this one's"
    fi
    say "stack $STACK runs with $CONFIG; cron picks up /etc/cron.d/opsuite-$STACK by itself;" \
        "logs: /var/log/opsuite-$STACK-{backup,freshness,restore-drill}.log"
fi
say "evidence: $REPO/reports/<check>/<UTC stamp>.html"
