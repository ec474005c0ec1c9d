"""Example api: liveness, readiness (DB reachable and schema at this release's head), version, notes, uploads."""

import json
import os
import re
from pathlib import Path

import psycopg2
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .db import connect

HERE = Path(__file__).parent
RELEASE = json.loads((HERE / "release.json").read_text())
SCRIPTS = ScriptDirectory.from_config(Config(str(HERE.parent / "alembic.ini")))
HEAD = SCRIPTS.get_current_head()
KNOWN = {script.revision for script in SCRIPTS.walk_revisions()}
HAS_TITLES = "0002_note_titles" in RELEASE["migrations"]
# 1.3.0-contract renamed the column; its API still calls it body.
BODY = "content" if "0004_note_body_renamed" in RELEASE["migrations"] else "body"
UPLOADS = Path(os.environ.get("UPLOADS_DIR", "/app/uploads"))
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")

app = FastAPI(title="zenops-example", version=RELEASE["version"])


def not_ready(reason: str) -> JSONResponse:
    return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)


@app.get("/healthz")
def healthz():
    return {"status": "alive"}


@app.get("/readyz")
def readyz():
    if not RELEASE["ready"]:
        return not_ready("deliberately broken release")
    try:
        conn = connect()
    except psycopg2.Error as e:
        return not_ready(f"database unreachable ({type(e).__name__})")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('alembic_version') IS NOT NULL")
            if not cur.fetchone()[0]:
                return not_ready("alembic_version missing: run the migrate task")
            cur.execute("SELECT version_num FROM alembic_version")
            row = cur.fetchone()
    except psycopg2.Error as e:
        return not_ready(f"database query failed ({type(e).__name__})")
    finally:
        conn.close()
    revision = row[0] if row else None
    if revision is None:
        return not_ready("alembic_version is empty: run the migrate task")
    if revision in KNOWN and revision != HEAD:
        return not_ready(f"database at revision {revision}, behind this release's {HEAD}: run the migrate task")
    if revision not in KNOWN:
        # A newer schema this release does not know: compatible under expand/contract migrations,
        # which is what lets a release be rolled back without restoring the database.
        return {"status": "ready", "revision": revision, "head": HEAD, "schema": "newer than this release"}
    return {"status": "ready", "revision": revision, "head": HEAD}


@app.get("/version")
def version():
    return {"version": RELEASE["version"]}


@app.get("/notes")
def list_notes():
    conn = connect()
    try:
        with conn.cursor() as cur:
            columns = f"id, {BODY} AS body, title" if HAS_TITLES else "id, body"
            cur.execute(f"SELECT {columns} FROM notes ORDER BY id")
            names = [c.name for c in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        conn.close()


@app.post("/notes", status_code=201)
async def create_note(request: Request):
    payload = await request.json()
    body = str(payload["body"])
    conn = connect()
    try:
        with conn, conn.cursor() as cur:
            if HAS_TITLES:
                cur.execute(f"INSERT INTO notes ({BODY}, title) VALUES (%s, %s) RETURNING id",
                            (body, str(payload.get("title") or body[:40])))
            else:
                cur.execute("INSERT INTO notes (body) VALUES (%s) RETURNING id", (body,))
            note_id = cur.fetchone()[0]
            cur.execute("INSERT INTO outbox (kind, payload) VALUES ('email', %s)",
                        (json.dumps({"note_id": note_id}),))
    finally:
        conn.close()
    return {"id": note_id}


@app.put("/uploads/{name}", status_code=201)
async def put_upload(name: str, request: Request):
    if not SAFE_NAME.match(name):
        return JSONResponse({"error": "invalid file name"}, status_code=400)
    (UPLOADS / name).write_bytes(await request.body())
    return {"stored": name}


@app.get("/uploads/{name}")
def get_upload(name: str):
    path = UPLOADS / name
    if not SAFE_NAME.match(name) or not path.is_file():
        return JSONResponse({"error": "not found"}, status_code=404)
    return Response(path.read_bytes(), media_type="application/octet-stream")
