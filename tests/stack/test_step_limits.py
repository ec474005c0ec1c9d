"""A step's time limit is its commands' [timeouts] setting, never pytest-timeout's: a backup whose
dump waits on a table lock passes under `--timeout=1`, and the same dump past [timeouts]
dump_seconds is stopped with an error naming that setting."""

import contextlib
import json
import re
import threading

import pytest

from procedures import runner
from procedures.commands import docker as docker_cmd

from testkit.ops_run import passed, run_check

pytestmark = [pytest.mark.stack, pytest.mark.destructive]

_PSQL = ["psql", "-X", "-At", "-U", "zenops", "-d", "zenops", "-v", "ON_ERROR_STOP=1"]


_WAITERS = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE NOT l.granted AND l.relation = 'notes'::regclass AND a.application_name = 'pg_dump'")


@contextlib.contextmanager
def notes_locked(stack, seconds: float):
    """Another session holds an exclusive lock on notes until pg_dump has waited on it for `seconds`,
    for real. Counted from when the dump is seen waiting, not from when the lock was taken: on a busy
    machine the backup's earlier steps took long enough that the dump waited only 1.8 of 4 s."""
    with runner.session(docker_cmd.exec_in(f"{stack.project}-db-1", _PSQL)) as holder:
        holder.send("BEGIN; LOCK TABLE notes IN ACCESS EXCLUSIVE MODE; SELECT 'locked';")
        assert holder.read_until("locked") == ["BEGIN", "LOCK TABLE"]
        done = threading.Event()
        releaser = threading.Thread(target=_release_once_waited_on, args=(stack, holder, seconds, done), daemon=True)
        releaser.start()
        try:
            yield
        finally:
            done.set()
            releaser.join(timeout=30)
            with contextlib.suppress(Exception):
                holder.send("ROLLBACK;")


def _release_once_waited_on(stack, holder, seconds: float, done: threading.Event, limit: float = 300) -> None:
    """Poll pg_locks until pg_dump waits on notes (bounded), then hold on for `seconds` and roll back."""
    ask = docker_cmd.exec_in(f"{stack.project}-db-1", [*_PSQL, "-c", _WAITERS])
    for _ in range(int(limit / 0.2)):
        if done.is_set():
            return
        if runner.run(ask, limit="command", check=False).stdout.strip() not in ("", "0"):
            break
        done.wait(0.2)
    if not done.wait(seconds):
        holder.send("ROLLBACK;")


def _steps(report) -> dict:
    record = json.loads(report.with_suffix(".json").read_text())
    return {s["name"]: s for s in record["steps"]}


@pytest.mark.fault("a dump longer than pytest's timeout")
def test_a_step_longer_than_pytests_timeout_passes_within_its_timeouts_limit(backup_stack, tmp_path):
    with notes_locked(backup_stack, 3.5):
        done, report = run_check(backup_stack, tmp_path, "backup", "--timeout=1")
    passed(done)
    dump = _steps(report)["dump"]
    assert dump["outcome"] == "passed" and dump["seconds"] > 3, "the dump waited for the lock, past --timeout=1"


@pytest.mark.fault("a dump past [timeouts] dump_seconds")
def test_a_command_past_its_timeouts_limit_is_stopped_naming_the_setting(backup_stack, tmp_path):
    config = tmp_path / "short-dump.toml"
    config.write_text(re.sub(r"(?m)^dump_seconds = .*$", "dump_seconds = 3", backup_stack.config_path.read_text()))
    assert "\ndump_seconds = 3\n" in config.read_text()
    short = type(backup_stack)(backup_stack.ctx, config, backup_stack.password)
    with notes_locked(backup_stack, 30):
        done, report = run_check(short, tmp_path, "backup")
    assert done.returncode != 0
    dump = _steps(report)["dump"]
    assert dump["outcome"] == "failed"
    assert "timed out after 3s" in done.stdout and "raise [timeouts] dump_seconds" in done.stdout, done.stdout[-3000:]
