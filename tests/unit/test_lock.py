import dataclasses
import json
import multiprocessing
import os
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from procedures import lock
from procedures.errors import LockHeld
from procedures.release import install

pytestmark = pytest.mark.unit


def test_lock_is_taken_and_released(tmp_path):
    with lock.hold(str(tmp_path), "zen", "deploy") as holder:
        assert lock.read_holder(lock.lock_path(str(tmp_path), "zen")) == holder
    assert not lock.lock_path(str(tmp_path), "zen").exists()


def test_lock_is_released_when_the_block_raises(tmp_path):
    with pytest.raises(RuntimeError):
        with lock.hold(str(tmp_path), "zen", "deploy"):
            raise RuntimeError("step failed")
    assert not lock.lock_path(str(tmp_path), "zen").exists()


def test_second_holder_is_refused_with_who_and_since(tmp_path):
    with lock.hold(str(tmp_path), "zen", "deploy") as holder:
        with pytest.raises(LockHeld) as refused:
            with lock.hold(str(tmp_path), "zen", "backup"):
                pass
        message = str(refused.value)
        assert f"deploy by {holder.user}@{holder.host} (pid {os.getpid()}) since {holder.since}" in message
    with lock.hold(str(tmp_path), "zen", "backup"):
        pass


def test_other_projects_do_not_block(tmp_path):
    with lock.hold(str(tmp_path), "zen", "deploy"), lock.hold(str(tmp_path), "other", "deploy"):
        pass


def _stale_lock(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    path = lock.lock_path(str(tmp_path), "zen")
    path.mkdir(parents=True)
    holder = lock.Holder("deploy", "ops", __import__("socket").gethostname(), gone.pid, "2026-11-24T01:00:00+00:00")
    (path / "holder.json").write_text(json.dumps(vars(holder)))
    return path


def test_stale_lock_is_reported_and_not_broken_silently(tmp_path):
    path = _stale_lock(tmp_path)
    with pytest.raises(LockHeld, match="stale lock .* --break-stale-lock"):
        with lock.hold(str(tmp_path), "zen", "deploy"):
            pass
    assert path.exists()


def test_stale_lock_is_broken_only_when_asked(tmp_path):
    _stale_lock(tmp_path)
    with lock.hold(str(tmp_path), "zen", "deploy", break_stale=True) as holder:
        assert holder.pid == os.getpid()
    assert not lock.lock_path(str(tmp_path), "zen").exists()


def _record(tmp_path, **changes):
    """A lock whose holder is this process, with some of its record changed."""
    path = lock.lock_path(str(tmp_path), "zen")
    path.mkdir(parents=True)
    holder = dataclasses.replace(lock._me("deploy"), **changes)
    (path / "holder.json").write_text(json.dumps(vars(holder)))
    return path


def test_holder_records_boot_id_start_time_and_a_token(tmp_path):
    with lock.hold(str(tmp_path), "zen", "deploy") as holder:
        record = json.loads((lock.lock_path(str(tmp_path), "zen") / "holder.json").read_text())
    assert record["boot_id"] == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert record["started"] == int(Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19])
    assert len(record["token"]) == 32 and record == vars(holder)


def test_process_start_reads_field_22_past_a_command_name_with_spaces_and_parens(tmp_path):
    script = tmp_path / "odd ) name"
    script.write_text("#!/bin/sh\nsleep 5\n")
    script.chmod(0o755)
    proc = subprocess.Popen([str(script)])
    try:
        time.sleep(0.2)
        fields_after_name = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert lock.process_start(proc.pid) == int(fields_after_name[19])
        assert lock.process_start(proc.pid) >= lock.process_start(os.getpid())
    finally:
        proc.kill()
        proc.wait()
    assert lock.process_start(proc.pid) is None


def test_holder_from_before_a_reboot_is_stale_although_its_pid_runs_now(tmp_path):
    path = _record(tmp_path, boot_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(LockHeld, match=r"no longer running \(the host rebooted since\).*--break-stale-lock"):
        with lock.hold(str(tmp_path), "zen", "deploy"):
            pass
    assert path.exists()


def test_holder_whose_pid_now_belongs_to_a_later_process_is_stale(tmp_path):
    _record(tmp_path, started=lock.process_start(os.getpid()) - 1)
    with pytest.raises(LockHeld, match="now belongs to a later process"):
        with lock.hold(str(tmp_path), "zen", "deploy"):
            pass


def test_record_without_boot_id_or_start_time_is_judged_by_its_pid(tmp_path):
    path = lock.lock_path(str(tmp_path), "zen")
    path.mkdir(parents=True)
    old = {"action": "backup", "user": "ops", "host": socket.gethostname(), "pid": os.getpid(),
           "since": "2026-11-24T01:00:00+00:00"}
    (path / "holder.json").write_text(json.dumps(old))
    with pytest.raises(LockHeld, match="is locked by backup by ops@"):
        with lock.hold(str(tmp_path), "zen", "deploy", break_stale=True):
            pass


def test_holder_on_another_host_is_never_judged_stale(tmp_path):
    _record(tmp_path, host="elsewhere", pid=1, boot_id="other", started=1)
    with pytest.raises(LockHeld, match="is locked by deploy by .*@elsewhere"):
        with lock.hold(str(tmp_path), "zen", "deploy", break_stale=True):
            pass


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path):
    path = lock.lock_path(str(tmp_path), "zen")
    with lock.hold(str(tmp_path), "zen", "deploy"):
        other = dataclasses.replace(lock._me("backup"), token="f" * 32)
        (path / "holder.json").write_text(json.dumps(vars(other)))
    assert lock.read_holder(path) == other


def _break_stale(lock_dir: str, start, results) -> None:
    start.wait()
    try:
        with lock.hold(lock_dir, "zen", "deploy", break_stale=True):
            results.put(("won", os.getpid()))
            time.sleep(0.3)  # hold it while the other breakers decide
    except LockHeld as e:
        results.put(("refused", str(e)))


@pytest.mark.parametrize("round_", range(5))  # a race: without the guard about half the rounds had 2+ winners
def test_breakers_racing_for_one_stale_lock_leave_exactly_one_holder(tmp_path, round_):
    _stale_lock(tmp_path)
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    breakers = [context.Process(target=_break_stale, args=(str(tmp_path), start, results)) for _ in range(6)]
    for breaker in breakers:
        breaker.start()
    start.set()
    for breaker in breakers:
        breaker.join(30)
    outcomes = [results.get(timeout=5) for _ in breakers]
    won = [o for o in outcomes if o[0] == "won"]
    assert len(won) == 1, outcomes
    assert all("is locked by deploy" in o[1] for o in outcomes if o[0] == "refused"), outcomes
    assert not lock.lock_path(str(tmp_path), "zen").exists()


def test_install_takes_the_stack_lock(tmp_path, monkeypatch):
    config = SimpleNamespace(stack=SimpleNamespace(lock_dir=str(tmp_path), project="zen"))
    ctx = SimpleNamespace(config=config)
    seen = []
    steps = SimpleNamespace(run_all=lambda run: seen.append(lock.read_holder(lock.lock_path(str(tmp_path), "zen"))))
    monkeypatch.setattr(install, "INSTALL", steps)
    install.install(ctx)
    assert seen[0].action == "install" and seen[0].pid == os.getpid()
    assert not lock.lock_path(str(tmp_path), "zen").exists()
    with lock.hold(str(tmp_path), "zen", "deploy"), pytest.raises(LockHeld, match="locked by deploy"):
        with install.open_run(ctx):
            pass
