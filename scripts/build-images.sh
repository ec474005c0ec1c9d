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
