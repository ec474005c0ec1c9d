#!/usr/bin/env bash
# Opt-in, re-runnable: full-stack-fastapi-template (0.10.0, its compose.yml + compose.traefik.yml) taken
# through discover -> adopt -> health -> backup -> drill -> deploy (20 req/s) -> rollback -> a failing
# migration -> disaster restore, then the figures. NOT part of CI (docs/ADOPTING.md section 8).
#
#   git --git-dir=/work/.mirror/fastapi+full-stack-fastapi-template/repo archive 0.10.0 | tar -x -C /tmp/appb/app
#   FRESH=1 bash scripts/public_apps/fastapi-template.sh /tmp/appb/app
#
# FRESH=1 first removes this run's own containers (projects $APPB_PROJECT, $APPB_TRAEFIK_PROJECT) and refuses
# while volumes of an earlier run are left, naming the command that removes them (no script removes a volume).
# A second run beside an earlier one's projects and volumes: other names and ports, e.g.
#   APPB_PROJECT=appb2-fastapi APPB_TRAEFIK_PROJECT=appb2-traefik APPB_HTTP_PORT=18580 APPB_HTTPS_PORT=18543
# (the network traefik-public is the app's own fixed name: stop the other run's Traefik meanwhile, or both
# route the same labels).
# Needs the suite's images (scripts/build-images.sh: postgres-standin:17, backup:pg17, traefik-standin:3.7).
set -euo pipefail
APP=$(realpath "${1:?usage: fastapi-template.sh APP_CHECKOUT}")
SUITE=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$SUITE/scripts/public_apps"
FILES="$HERE/fastapi-template"
PY=${PY:-$SUITE/.venv/bin/python}; [ -x "$PY" ] || PY=/work/main/.venv/bin/python
WORK=${WORK:-$(dirname "$APP")/appb-run}
PROJECT=${APPB_PROJECT:-appb-fastapi}
TRAEFIK_PROJECT=${APPB_TRAEFIK_PROJECT:-appb-traefik}
HTTP_PORT=${APPB_HTTP_PORT:-18480}
HTTPS_PORT=${APPB_HTTPS_PORT:-18443}
DOMAIN=${APPB_DOMAIN:-$PROJECT.localhost}
HOST=api.$DOMAIN
URL=https://127.0.0.1:$HTTPS_PORT/api/v1/utils/health-check/

say() { printf '\n== %s\n' "$*"; }
check() { (cd "$SUITE" && "$PY" -m pytest -q -p no:cacheprovider "$@"); }
loaded() { local name=$1; shift; "$PY" "$HERE/under_load.py" --url "$URL" --host "$HOST" --insecure \
             --out "$WORK/runs/$name.json" -- "$@" 2>&1 | grep -vE '^(dump|restore):' | tail -6 || true; }

say "stand-in images (no registry here; each named for what it is, plus the name the app's files use)"
standin() {  # image, dockerfile, files...
  local image=$1 dockerfile=$2 ctx; shift 2
  docker image inspect "$image" >/dev/null 2>&1 && { echo "present $image"; return; }
  ctx=$(mktemp -d); cp "$FILES/$dockerfile" "$ctx/Dockerfile"; [ $# -gt 0 ] && cp "$@" "$ctx/"
  DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >/dev/null && echo "built   $image"; rm -rf "$ctx"
}
UVDIR=$(mktemp -d)
"$PY" -m pip download -q --no-deps --only-binary=:all: -d "$UVDIR" uv==0.9.26
(cd "$UVDIR" && unzip -q -j -o uv-0.9.26-*.whl 'uv-0.9.26.data/scripts/*')
cp /etc/ssl/certs/ca-certificates.crt "$UVDIR/host-ca.crt"
standin opsuite-local/python-standin:3.11-bookworm python.Dockerfile "$UVDIR/host-ca.crt"
standin opsuite-local/uv-standin:0.9.26 uv.Dockerfile "$UVDIR/uv" "$UVDIR/uvx"
standin opsuite-local/adminer-standin:bookworm adminer.Dockerfile
standin opsuite-local/appb-postgres-standin:17-utf8 postgres.Dockerfile
rm -rf "$UVDIR"
docker tag opsuite-local/python-standin:3.11-bookworm python:3.10          # backend/Dockerfile: FROM python:3.10
docker tag opsuite-local/uv-standin:0.9.26 ghcr.io/astral-sh/uv:0.9.26     # COPY --from=ghcr.io/astral-sh/uv:0.9.26

if [ "${FRESH:-}" = 1 ]; then
  say "fresh: removing this run's containers and state (volumes: never by a script of the suite)"
  for p in "$PROJECT" "$TRAEFIK_PROJECT"; do
    docker ps -aq --filter "label=com.docker.compose.project=$p" | xargs -r docker rm -f >/dev/null
  done
  left=$(docker volume ls -q | grep -E "^(${PROJECT}|${TRAEFIK_PROJECT})_" || true)
  if [ -n "$left" ]; then
    echo "refused: volumes of an earlier run are left; a fresh run needs none. Remove them yourself:" >&2
    echo "  docker volume rm $(echo $left)" >&2
    exit 2
  fi
  rm -rf "$WORK"
fi
mkdir -p "$WORK/runs" "$WORK/state/locks"

say "the app's releases: 0.10.0 as published, 0.10.1-appb (a nullable column), 0.10.2-appb-broken (fails)"
cd "$APP"
[ -d .git ] || { git init -q -b main && git add -A && git -c user.name=appb -c user.email=appb@local commit -qm "full-stack-fastapi-template 0.10.0"; }
git rev-parse -q --verify refs/tags/0.10.0 >/dev/null || git tag 0.10.0
if ! git rev-parse -q --verify refs/tags/0.10.2-appb-broken >/dev/null; then
  V=backend/app/alembic/versions
  cp "$FILES/release-2.py" $V/b7c1d2e3f4a5_add_nullable_note_to_item.py
  git add $V && git -c user.name=appb -c user.email=appb@local commit -qm "0.10.1-appb: nullable item.note" && git tag 0.10.1-appb
  cp "$FILES/release-3-broken.py" $V/c8d2e3f4a5b6_add_required_tier_to_user.py
  git add $V && git -c user.name=appb -c user.email=appb@local commit -qm "0.10.2-appb-broken: NOT NULL user.tier" && git tag 0.10.2-appb-broken
  git reset -q --hard 0.10.0
fi

say "operator files: secrets, names, ports, the stand-ins' image names (nothing else of the app changes)"
cp "$FILES/compose.standins.yml" compose.standins.yml
grep -qx 'compose.standins.yml' .git/info/exclude || printf '.env\ncompose.standins.yml\ndocker-compose.opsuite.yml\n.env.*\n' >> .git/info/exclude
"$PY" - "$APP/.env" "$PROJECT" "$DOMAIN" <<'EOF'
import re, secrets, sys
path, project, domain = sys.argv[1:4]; text = open(path).read()
if "COMPOSE_PROJECT_NAME" not in text:
    for key in ("SECRET_KEY", "FIRST_SUPERUSER_PASSWORD", "POSTGRES_PASSWORD"):
        text = re.sub(rf"^{key}=.*$", f"{key}={secrets.token_urlsafe(24)}", text, flags=re.M)
    for key, value in (("STACK_NAME", project), ("DOMAIN", domain),
                       ("DOCKER_IMAGE_BACKEND", f"{project}-backend"), ("DOCKER_IMAGE_FRONTEND", f"{project}-frontend")):
        text = re.sub(rf"^{key}=.*$", f"{key}={value}", text, flags=re.M)
    text += f"\nCOMPOSE_PROJECT_NAME={project}\nCOMPOSE_FILE=compose.yml:compose.standins.yml\n"
    open(path, "w").write(text)
EOF
grep -q " $HOST" /etc/hosts || echo "127.0.0.1 $HOST  # appB run: stands in for DNS" >> /etc/hosts

say "Traefik, as the template deploys it (compose.traefik.yml, network traefik-public), on the stand-in"
mkdir -p "$WORK/traefik"
cp compose.traefik.yml "$WORK/traefik/"; cp "$FILES/traefik.compose.standins.yml" "$WORK/traefik/compose.standins.yml"
printf 'COMPOSE_PROJECT_NAME=%s\nCOMPOSE_FILE=compose.traefik.yml:compose.standins.yml\nDOMAIN=%s\nUSERNAME=admin\nHASHED_PASSWORD=$$apr1$$appb$$notarealhash\nEMAIL=ops@appb.invalid\nHTTP_PORT=%s\nHTTPS_PORT=%s\n' \
  "$TRAEFIK_PROJECT" "$DOMAIN" "$HTTP_PORT" "$HTTPS_PORT" > "$WORK/traefik/.env"
docker network inspect traefik-public >/dev/null 2>&1 || docker network create traefik-public >/dev/null
(cd "$WORK/traefik" && docker compose up -d 2>&1 | tail -1)

say "the app, started plainly as its own deploy does (docker compose build; up -d)"
if ! docker ps -q --filter "label=com.docker.compose.project=$PROJECT" | grep -q .; then
  docker compose build 2>&1 | tail -2; docker compose up -d 2>&1 | tail -1
fi
for _ in $(seq 60); do curl -skf -H "Host: $HOST" "$URL" >/dev/null && break; sleep 2; done
curl -skf -H "Host: $HOST" "$URL"; echo

say "1 discover, and the config settled from its proposal (the GUESS lines only)"
if [ ! -f "$WORK/ops.toml" ]; then   # a re-run without FRESH keeps the config adopt ran with
  check ops_checks/discover.py --compose-file="$APP" | tail -1
  PROPOSAL=$(ls -t "$SUITE"/reports/discover/*.ops.toml | head -1)
  grep -E '^proxy(_container)? =' "$PROPOSAL"
  "$PY" "$HERE/settle_fastapi_template.py" "$PROPOSAL" "$WORK/ops.toml" "$WORK/state" "https://$HOST:$HTTPS_PORT"
fi
OPS=--ops-config=$WORK/ops.toml

say "2 adopt at 0.10.0 (adopt names the running images for the release itself)"
if [ ! -s "$WORK/state/$PROJECT/releases.jsonl" ]; then
  CONFIRM=YES check ops_checks/adopt.py "$OPS" --tag=0.10.0 | tail -1
fi

say "3 health, 4 backup, 5 drill"
check ops_checks/stack_health.py "$OPS" | tail -1
check ops_checks/backup.py "$OPS" | tail -1
check ops_checks/restore_drill.py "$OPS" | tail -1

say "6 deploy 0.10.1-appb at 20 req/s (as found: no retry middleware yet)"
loaded deploy-unpatched ops_checks/deploy.py "$OPS" --tag=0.10.1-appb
say "   the Traefik patch the deploy report proposes, applied; Traefik reads labels when the container is recreated"
REPORT=$(ls -t "$SUITE"/reports/deploy/*.json | head -1)
"$PY" "$HERE/fastapi_template_tools.py" patch "$REPORT" "$APP/compose.yml" "$APP/.env"
if "$PY" "$HERE/fastapi_template_tools.py" traefik-flag "$REPORT" "$WORK/traefik/compose.traefik.yml"; then
  (cd "$WORK/traefik" && docker compose up -d 2>&1 | tail -1)   # Traefik's static config: read at its start
fi
check ops_checks/stack_health.py "$OPS" | tail -1   # regenerates the overlay
docker compose up -d --no-deps backend db 2>&1 | tail -1
for _ in $(seq 60); do curl -skf -H "Host: $HOST" "$URL" >/dev/null && break; sleep 2; done

say "7 rollback, deploy again, 8 the failing migration, rollback: each at 20 req/s"
loaded rollback ops_checks/rollback.py "$OPS"
loaded deploy ops_checks/deploy.py "$OPS" --tag=0.10.1-appb
loaded failing-migration ops_checks/deploy.py "$OPS" --tag=0.10.2-appb-broken
loaded rollback-again ops_checks/rollback.py "$OPS"

say "9 disaster restore of the newest set (docs/RESTORE_RUNBOOK.md section 6), serving 0.10.0"
CONFIRM=YES check ops_checks/restore_drill.py --mode=disaster "$OPS" --tag=0.10.0 | tail -1

say "figures"
"$PY" "$HERE/fastapi_template_tools.py" figures "$WORK/state" "$WORK/runs"
echo "reports: $SUITE/reports/{adopt,backup,restore_drill,deploy,rollback}/ (JSON records beside the HTML)"
