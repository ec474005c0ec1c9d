import json
import os
import subprocess

import pytest

from procedures import lock
from procedures.errors import LockHeld

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
