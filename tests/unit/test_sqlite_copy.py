"""SQLite's online backup with the real library: a WAL database copied while a writer keeps writing
passes the integrity check and is one point in time; a missing, locked or corrupt database fails
loudly and leaves nothing under the output name."""

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from procedures.engines import sqlite_copy

pytestmark = pytest.mark.unit
SOURCE = Path(sqlite_copy.__file__).read_text()

WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
i = 0
while True:
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO orders (n) VALUES (?)", (i,))
    db.execute("INSERT INTO order_lines (n) VALUES (?)", (i,))
    db.execute("COMMIT")
    i += 1
"""


def make_database(path: Path, wal: bool = True) -> sqlite3.Connection:
    """The app's database, and its open connection (the last close of a WAL database checkpoints it)."""
    db = sqlite3.connect(path, isolation_level=None)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")  # committed rows stay in -wal, as between checkpoints
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, n INTEGER)")
    db.execute("CREATE TABLE order_lines (id INTEGER PRIMARY KEY, n INTEGER)")
    db.execute("CREATE TABLE schema_migrations (version TEXT)")
    db.execute("INSERT INTO schema_migrations VALUES ('20261101_add_folders')")
    db.executemany("INSERT INTO orders (n) VALUES (?)", [(i,) for i in range(100)])
    return db


def run_script(*args: str) -> subprocess.CompletedProcess:
    """As the container runs it: the source on stdin."""
    return subprocess.run([sys.executable, "-", *args], input=SOURCE, capture_output=True, text=True, timeout=120)


def test_rows_still_in_the_wal_file_are_in_the_copy(tmp_path):
    db = tmp_path / "app.db"
    app = make_database(db)  # the app keeps its connection open: the rows stay in -wal
    assert (tmp_path / "app.db-wal").stat().st_size > 0, "the rows are in the -wal file, not yet in app.db"
    out = tmp_path / "copy.db.gz"
    done = run_script("backup", str(db), str(out), "5", "SELECT max(version) FROM schema_migrations")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["row_counts"] == {"order_lines": 0, "orders": 100, "schema_migrations": 1}
    assert found["revision"] == "20261101_add_folders" and found["integrity"] == "ok"
    assert sqlite_copy.check(str(out), "SELECT max(version) FROM schema_migrations") == found
    assert gzip.open(out).read(16) == b"SQLite format 3\x00"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "app.db-shm", "app.db-wal", "copy.db.gz"]
    app.close()


def test_a_copy_taken_while_the_app_writes_is_whole_and_one_point_in_time(tmp_path):
    db = tmp_path / "app.db"
    make_database(db).execute("DELETE FROM orders")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)])
    try:
        # Each copy starts once the writer has committed past what the last copy saw: on a busy
        # machine a fixed sleep saw a writer that had not started yet (0 rows).
        seen = [0]
        for attempt in range(5):
            wait_for_more_rows(db, than=seen[-1], writer=writer)
            found = sqlite_copy.backup(str(db), str(tmp_path / f"copy{attempt}.gz"), 10)
            counts = found["row_counts"]
            assert counts["orders"] == counts["order_lines"], "both rows of a transaction, or neither"
            seen.append(counts["orders"])
        assert writer.poll() is None, "the writer kept writing throughout"
    finally:
        writer.kill()
        writer.wait()
    assert seen == sorted(seen) and seen[-1] > seen[1] > 0, seen


def wait_for_more_rows(db: Path, than: int, writer: subprocess.Popen, limit: float = 60.0) -> None:
    """Until the writer has committed more than `than` orders (bounded; a dead writer fails at once)."""
    deadline = time.monotonic() + limit
    reader = sqlite3.connect(db, timeout=30)
    try:
        while reader.execute("SELECT count(*) FROM orders").fetchone()[0] <= than:
            assert writer.poll() is None, "the writer died"
            assert time.monotonic() < deadline, f"the writer committed nothing past {than} rows in {limit} s"
            time.sleep(0.02)
    finally:
        reader.close()


def test_a_missing_database_is_an_error_and_creates_nothing(tmp_path):
    done = run_script("backup", str(tmp_path / "absent.db"), str(tmp_path / "out.gz"), "1")
    assert done.returncode == 1 and "absent.db does not exist" in done.stderr
    assert "nothing was written under the output name" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_database_locked_past_the_timeout_fails_loudly(tmp_path):
    db = tmp_path / "app.db"
    holder = make_database(db, wal=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite_copy.CopyFailed, match="locked"):
            sqlite_copy.backup(str(db), str(tmp_path / "out.gz"), 0.5)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not (tmp_path / "out.gz").exists() and not list(tmp_path.glob(".sqlite-copy-*"))


def test_a_corrupt_database_fails_the_integrity_check_or_the_copy(tmp_path):
    db = tmp_path / "app.db"
    make_database(db, wal=False).close()
    data = bytearray(db.read_bytes())
    data[4096 + 100:4096 + 400] = b"\xff" * 300  # a table's page, not the header
    db.write_bytes(bytes(data))
    with pytest.raises(sqlite_copy.CopyFailed, match="integrity_check|malformed|not a database"):
        sqlite_copy.backup(str(db), str(tmp_path / "out.gz"), 1)
    assert not (tmp_path / "out.gz").exists()


def test_a_revision_query_of_more_than_one_value_is_refused(tmp_path):
    db = tmp_path / "app.db"
    make_database(db)
    with pytest.raises(sqlite_copy.CopyFailed, match="must return one value"):
        sqlite_copy.backup(str(db), str(tmp_path / "out.gz"), 1, "SELECT n FROM orders")


def test_check_refuses_a_file_that_is_not_a_compressed_copy(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(sqlite_copy.CopyFailed, match="not a readable gzip"):
        sqlite_copy.check(str(bad))


def test_counts_and_query_read_the_live_database_without_writing_it(tmp_path):
    db = tmp_path / "app.db"
    holder = make_database(db)
    try:
        found = sqlite_copy.counts(str(db), 5, "SELECT max(version) FROM schema_migrations")
        assert found["row_counts"] == {"order_lines": 0, "orders": 100, "schema_migrations": 1}
        assert found["revision"] == "20261101_add_folders" and "integrity" not in found
        assert sqlite_copy.query(str(db), 5, "SELECT n FROM orders WHERE n < 2 ORDER BY n") == "0\n1\n"
        done = run_script("query", str(db), "5", "SELECT count(*) FROM orders")
        assert (done.returncode, done.stdout) == (0, "100\n")
    finally:
        holder.close()


def test_the_identity_of_a_database_file_changes_when_it_is_created_anew(tmp_path):
    db = tmp_path / "app.db"
    make_database(db).close()
    first = sqlite_copy.identity(str(db))["identity"]
    assert sqlite_copy.identity(str(db))["identity"] == first
    (tmp_path / "other.db").write_bytes(db.read_bytes())
    db.unlink()
    (tmp_path / "other.db").rename(db)
    assert sqlite_copy.identity(str(db))["identity"] != first


def test_restore_moves_a_checked_copy_whole_to_its_place(tmp_path):
    db = tmp_path / "app.db"
    make_database(db).close()
    sqlite_copy.backup(str(db), str(tmp_path / "copy.gz"), 5)
    restored = tmp_path / "restored" / "database.db"
    restored.parent.mkdir()
    found = sqlite_copy.restore(str(tmp_path / "copy.gz"), str(restored))
    assert found["integrity"] == "ok" and found["row_counts"]["orders"] == 100
    assert [p.name for p in restored.parent.iterdir()] == ["database.db"], "no scratch left, no -wal beside it"
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"not a database"))
    with pytest.raises(sqlite_copy.CopyFailed, match="not a readable SQLite database"):
        sqlite_copy.restore(str(tmp_path / "bad.gz"), str(tmp_path / "restored" / "other.db"))
    assert not (tmp_path / "restored" / "other.db").exists()


def test_files_the_copy_creates_beside_the_database_go_to_its_owner(tmp_path):
    """Run as root (the backup container), a reader of a closed WAL database creates its -wal and -shm:
    the app, not root, must own them, or the app could no longer open its own database."""
    assert os.geteuid() == 0, "the backup container runs as root; so does this test (CI does)"
    db = tmp_path / "app.db"
    make_database(db).close()
    os.chown(db, 12345, 12345)
    holder = sqlite3.connect(db)  # open, but it has read nothing: the copy's read makes the sidecars
    try:
        sqlite_copy.counts(str(db), 5)
        sidecars = {p.name: p.stat().st_uid for p in tmp_path.iterdir() if p.name.startswith("app.db-")}
    finally:
        holder.close()
    assert sidecars == {"app.db-wal": 12345, "app.db-shm": 12345}


def test_a_restore_never_lands_beside_another_databases_files(tmp_path):
    """A -wal left in the target place would be replayed into the restored copy: refused, nothing written."""
    db = tmp_path / "app.db"
    make_database(db).close()
    sqlite_copy.backup(str(db), str(tmp_path / "copy.gz"), 5)
    place = tmp_path / "volume"
    place.mkdir()
    (place / "app.db-wal").write_bytes(b"old wal")
    with pytest.raises(sqlite_copy.CopyFailed, match="app.db-wal exist"):
        sqlite_copy.restore(str(tmp_path / "copy.gz"), str(place / "app.db"))
    assert sorted(p.name for p in place.iterdir()) == ["app.db-wal"]


def test_a_disaster_copy_takes_the_live_files_owner_and_mode(tmp_path):
    """The owner of the live file and its directory (read on the live volume) go to the restored file and
    the new volume's directory, so the app's own user can write there (the stack test proves it for real)."""
    assert os.geteuid() == 0, "the backup container runs as root; so does this test (CI does)"
    live = tmp_path / "live"
    live.mkdir()
    make_database(live / "app.db").close()
    os.chown(live, 10001, 10002)
    os.chmod(live, 0o750)
    os.chown(live / "app.db", 10001, 10002)
    os.chmod(live / "app.db", 0o640)
    owned = sqlite_copy.owner(str(live / "app.db"))
    assert owned == {"directory": [10001, 10002, 0o750], "file": [10001, 10002, 0o640]}
    assert sqlite_copy.owner(str(live / "gone" / "app.db"))["file"] is None, "a lost file: its directory's owner"
    sqlite_copy.backup(str(live / "app.db"), str(tmp_path / "copy.gz"), 5)
    restored = tmp_path / "new-volume" / "app.db"
    done = run_script("restore", str(tmp_path / "copy.gz"), str(restored), "", json.dumps(owned))
    assert done.returncode == 0, done.stderr
    for path, mode in ((restored, 0o640), (restored.parent, 0o750)):
        found = path.stat()
        assert (found.st_uid, found.st_gid, found.st_mode & 0o7777) == (10001, 10002, mode), path
