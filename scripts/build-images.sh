#!/usr/bin/env bash
# Builds the example stack's images locally (this machine has no registry), cached by content:
# an image whose opsuite.content-hash label matches its context, Dockerfile and args is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_BUILDKIT=0
BASE=opsuite-local/debian:bookworm
BASE_IMAGE="$BASE" bash scripts/base-image.sh

content_hash() {  # context dir, then build args
  local dir=$1; shift
  { (cd "$dir" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum)
    printf '%s\n' "$@" "$(docker image inspect --format '{{.Id}}' "$BASE")"; } | sha256sum | cut -c1-24
}

build() {  # image, context dir, build args...
  local image=$1 dir=$2; shift 2
  local hash args=()
  hash=$(content_hash "$dir" "$@")
  if [ "$(docker image inspect --format '{{index .Config.Labels "opsuite.content-hash"}}' "$image" 2>/dev/null)" = "$hash" ]; then
    echo "cached $image"; return
  fi
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  local started=$SECONDS
  docker build -q --label "opsuite.content-hash=$hash" "${args[@]}" -t "$image" "$dir" >/tmp/opsuite-build.log 2>&1 \
    || { tail -30 /tmp/opsuite-build.log >&2; echo "build of $image failed" >&2; exit 1; }
  echo "built  $image ($((SECONDS - started)) s)"
}

build opsuite-local/postgres-standin:15 example/images/postgres "BASE_IMAGE=$BASE"
build opsuite-local/nginx-standin:bookworm example/images/proxy "BASE_IMAGE=$BASE"
build opsuite-local/backup:pg15 backup-image "POSTGRES_IMAGE=opsuite-local/postgres-standin:15" \
  "POSTGRES_ID=$(docker image inspect --format '{{.Id}}' opsuite-local/postgres-standin:15)"
for version in $(python3 -c 'import json; print(" ".join(json.load(open("example/api/releases.json"))))'); do
  build "opsuite-local/zenops-api:$version" example/api "BASE_IMAGE=$BASE" "APP_VERSION=$version"
done
