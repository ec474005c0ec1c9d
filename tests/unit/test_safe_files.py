"""Everything the suite writes as root refuses, or replaces, a symbolic or hard link planted at its
path: the file outside (here `target`, standing for /etc/shadow) is never written, truncated or chmod-ed.

Each test plants the link where the suite writes: the ledger and audit log, a lock, reports and
records, the history index, overlays and proposals (write_private), the env file a switch rewrites
(its partial and its kept copy), the cron log, a directory of ours."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from procedures import file_edit, ledger, lock
from procedures.private_files import UnsafePath, open_private, private_dir, write_private
from procedures.restore import config_edit
from runbook_plugin.history import rewrite_index

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SECRET = "root:$6$untouched:19000:0:99999:7:::\n"


@pytest.fixture
def target(tmp_path) -> Path:
    """A file outside every directory the suite writes, 0640: what a planted link points at."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "shadow"
    path.write_text(SECRET)
    os.chmod(path, 0o640)
    return path


def untouched(target: Path) -> bool:
    return target.read_text() == SECRET and stat.S_IMODE(target.stat().st_mode) == 0o640


def plant(at: Path, target: Path) -> Path:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(target)
    return at


def foreign(link: Path) -> Path:
    """The link as another user (nobody) would have planted it (the suite's tests run as root, as it does)."""
    os.lchown(link, 65534, 65534)
    return link


@pytest.mark.fault("symlink planted at the ledger and the audit log")
def test_the_ledger_and_audit_log_refuse_a_planted_link(tmp_path, target):
    project_dir = tmp_path / "state" / "zen"
    plant(project_dir / "releases.jsonl", target)
    plant(project_dir / "audit.log", target)
    with pytest.raises(UnsafePath, match="releases.jsonl is a symbolic link; refused"):
        ledger.append_release(str(tmp_path / "state"), "zen", {"action": "deploy", "tag": "1.0.0"})
    with pytest.raises(UnsafePath, match="audit.log is a symbolic link"):
        ledger.audit(str(tmp_path / "state"), "zen", "deploy 1.0.0 deployed")
    assert untouched(target)


def test_a_hard_link_is_refused_before_anything_is_truncated_or_appended(tmp_path, target):
    os.link(target, tmp_path / "releases.jsonl")
    for append in (True, False):
        with pytest.raises(UnsafePath, match="a hard link to another file"):
            open_private(tmp_path / "releases.jsonl", append=append)
    assert untouched(target)


def test_a_new_file_of_ours_refuses_anything_already_at_its_name(tmp_path, target):
    plant(tmp_path / "report.html", target)
    with pytest.raises(FileExistsError):  # O_EXCL: a link is something already there
        open_private(tmp_path / "report.html", exclusive=True)
    (tmp_path / "fresh.html").write_text("planted")
    with pytest.raises(FileExistsError):
        open_private(tmp_path / "fresh.html", exclusive=True)
    assert untouched(target)


@pytest.mark.fault("symlink planted at a report, record, overlay or proposal")
def test_written_files_replace_a_planted_link_and_never_follow_it(tmp_path, target):
    for name in ("report.json", "overlay.yml", "proposal.toml"):
        plant(tmp_path / name, target)
        plant(tmp_path / f"{name}.partial", target)  # the partial name it used to write first
        write_private(tmp_path / name, "ours\n")
        assert not (tmp_path / name).is_symlink() and (tmp_path / name).read_text() == "ours\n"
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert untouched(target)


def test_the_history_index_replaces_a_planted_link(tmp_path, target):
    reports = tmp_path / "reports"
    plant(reports / "index.html", target)
    rewrite_index(reports)
    assert not (reports / "index.html").is_symlink() and untouched(target)


def test_a_directory_of_ours_that_is_another_users_link_is_refused(tmp_path, target):
    os.chmod(target.parent, 0o755)
    foreign(plant(tmp_path / "reports", target.parent))
    with pytest.raises(UnsafePath, match="a symbolic link another user owns"):
        private_dir(tmp_path / "reports")
    with pytest.raises(UnsafePath):
        private_dir(tmp_path / "reports", tighten=False)
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o755, "never tightened through the link"
    assert untouched(target)


def test_an_operators_own_link_to_a_directory_is_followed(tmp_path):
    elsewhere = tmp_path / "data"
    elsewhere.mkdir()
    (tmp_path / "state").symlink_to(elsewhere)
    assert private_dir(tmp_path / "state") == tmp_path / "state"


@pytest.mark.fault("symlink planted at the operations lock")
def test_the_lock_refuses_a_planted_link(tmp_path, target):
    locks = tmp_path / "locks"
    plant(locks / "zen.lock.guard", target)
    with pytest.raises(OSError):
        with lock.hold(str(locks), "zen", "deploy"):
            pass
    os.unlink(locks / "zen.lock.guard")
    foreign(plant(locks / "zen.lock", target.parent))
    with pytest.raises(UnsafePath, match="zen.lock is a symbolic link another user owns"):
        with lock.hold(str(locks), "zen", "deploy"):
            pass
    assert not (target.parent / "holder.json").exists()
    assert untouched(target)


@pytest.mark.fault("symlink planted at the env file's partial or kept copy")
def test_an_env_rewrite_follows_no_link_and_keeps_the_files_mode(tmp_path, target, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=s3cret-env-value\nDATABASE_URL=postgresql://a\n")
    os.chmod(env, 0o640)
    monkeypatch.setattr(file_edit, "datetime", type("Fixed", (), {
        "now": staticmethod(lambda tz: __import__("datetime").datetime(2026, 12, 5, tzinfo=tz))}))
    plant(tmp_path / ".env.partial", target)
    plant(tmp_path / ".env.20261205T000000Z.before-volume-switch", target)
    kept = config_edit.set_env_value(env, "DATABASE_URL", "postgresql://b")
    assert kept == tmp_path / ".env.20261205T000000Z-1.before-volume-switch", "the planted name is stepped around"
    assert untouched(target) and (tmp_path / ".env.partial").is_symlink(), "the old partial name is not used"
    assert "postgresql://b" in env.read_text() and "postgresql://a" in kept.read_text()
    assert [stat.S_IMODE(p.stat().st_mode) for p in (env, kept)] == [0o640, 0o640], "the file's own mode, never 0644"
    assert not list(tmp_path.glob(".env.*.partial"))


def test_a_partial_env_file_is_never_readable_by_others_while_written(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=s3cret\nDATABASE_URL=postgresql://a\n")
    os.chmod(env, 0o600)
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        return real_replace(src, dst)
    monkeypatch.setattr(config_edit.os, "replace", spy)
    previous = os.umask(0o022)
    try:
        config_edit.set_env_value(env, "DATABASE_URL", "postgresql://b")
    finally:
        os.umask(previous)
    assert seen == [0o600]


@pytest.mark.fault("symlink planted at a cron log")
def test_the_cron_log_refuses_a_planted_link_and_runs_nothing(tmp_path, target):
    log = plant(tmp_path / "opsuite-zen-backup.log", target)
    ran = tmp_path / "ran"
    done = subprocess.run([sys.executable, "-m", "procedures.log_to", str(log), "touch", str(ran)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "is a symbolic link; refused" in done.stderr
    assert not ran.exists() and untouched(target)


def test_the_cron_log_is_appended_0600_and_the_check_runs_under_umask_077(tmp_path):
    log = tmp_path / "opsuite-zen-backup.log"
    log.write_text("earlier night\n")
    os.chmod(log, 0o644)  # as cron's `>>` left it
    script = 'echo out; echo err >&2; umask; touch "$0"'
    done = subprocess.run([sys.executable, "-m", "procedures.log_to", str(log), "sh", "-c", script,
                           str(tmp_path / "made")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == ""
    assert log.read_text().splitlines() == ["earlier night", "out", "err", "0077"]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "made").stat().st_mode) == 0o600


def test_scheduled_runs_write_under_umask_077():
    assert "\numask 077" in (ROOT / "scripts" / "run-check.sh").read_text()
    jobs = [line for line in (ROOT / "deploy" / "cron" / "opsuite").read_text().splitlines() if " root " in line]
    assert len(jobs) == 3 and all("procedures.log_to /var/log/" in job and ">>" not in job for job in jobs)


def test_the_schedule_installer_never_writes_through_a_dangling_link(tmp_path, target):
    from tests.unit.test_schedule import INSTALL, TARGET_REPO, stack_config
    root = tmp_path / "root"
    missing = target.parent / "planted-opsuite.env"
    plant(root / "etc" / "opsuite" / "opsuite.env", missing)
    done = subprocess.run(["bash", str(INSTALL), "--root", str(root), "--repo", TARGET_REPO,
                           "--config", str(stack_config(tmp_path / "srv", "zen-a"))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "is a symbolic link to nothing" in done.stderr
    assert not missing.exists() and untouched(target)


@pytest.mark.fault("symlink planted at an ops check's report")
def test_an_ops_check_refuses_a_report_path_that_is_a_link_before_any_step(tmp_path, target):
    report = plant(tmp_path / "evidence" / "discover.html", target)
    done = subprocess.run([sys.executable, "-m", "pytest", "ops_checks/discover.py", "-p", "no:cacheprovider",
                           f"--compose-file={ROOT / 'example' / 'docker-compose.yml'}", f"--html={report}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "is a symbolic link; refused" in done.stdout + done.stderr
    assert "no step was run" in done.stdout + done.stderr
    assert untouched(target) and not (tmp_path / "evidence" / "discover.json").exists()
