"""Scheduling: scripts/install-schedule.sh and scripts/run-check.sh, run for real.

install-schedule.sh installs into a temporary --root; run-check.sh runs in a tiny fake repo (its own
ops_checks/, a .venv/bin/pytest symlink to this venv's pytest), so real pytest runs pass and fail.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testkit.receivers import json_receiver

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install-schedule.sh"
RUN_CHECK = ROOT / "scripts" / "run-check.sh"
CHECKS = {"backup": "backup", "freshness": "freshness", "restore-drill": "restore_drill"}  # unit name: check
UNITS = [f"opsuite-{name}@.{kind}" for name in CHECKS for kind in ("service", "timer")]
TARGET_REPO = "/opt/opsuite-test"
STACKS = ("zen-a", "zen-b")


def stack_config(directory: Path, project: str) -> Path:
    """A loadable ops config of stack `project` (the bundled one, its paths made absolute)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "ops.toml"
    path.write_text((ROOT / "ops.toml").read_text()
                    .replace('project = "zenops-example"', f'project = "{project}"')
                    .replace('"example/', f'"{ROOT}/example/')
                    .replace('"docker-compose.prod.yml"', f'"{ROOT}/docker-compose.prod.yml"'))
    return path


@pytest.fixture
def configs(tmp_path) -> dict[str, Path]:
    """Two stacks' configs, as two adopted stacks on one host keep them."""
    return {project: stack_config(tmp_path / "srv" / project, project) for project in STACKS}


def install(root: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    config = config or stack_config(root.parent / "default-config", "zen-a")
    root.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["bash", str(INSTALL), "--root", str(root), "--repo", TARGET_REPO,
                             "--config", str(config), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def ini(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd unit file as {section: {key: [values]}}."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def environment_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments skipped)."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


# --- install-schedule.sh ------------------------------------------------------------------------

def test_systemd_install_renders_templates_per_check_and_names_the_stacks_config(tmp_path, configs):
    result = install(tmp_path / "root", config=configs["zen-a"])
    unit_dir = tmp_path / "root/etc/systemd/system"
    assert sorted(p.name for p in unit_dir.iterdir()) == sorted(UNITS)
    for name in UNITS:
        assert "@REPO@" not in (unit_dir / name).read_text(), name
    for name, check in CHECKS.items():
        service = ini((unit_dir / f"opsuite-{name}@.service").read_text())["Service"]
        assert service["Type"] == ["oneshot"]
        assert service["WorkingDirectory"] == [TARGET_REPO]
        assert service["ExecStart"] == [f"/bin/bash {TARGET_REPO}/scripts/run-check.sh {check}"]
        # The shared settings first, then the stack's own file, which names its config and wins.
        assert service["EnvironmentFile"] == ["-/etc/opsuite/opsuite.env", "/etc/opsuite/stacks/%i.env"]
        assert int(service["Nice"][0]) > 0 and service["IOSchedulingPriority"] == ["7"]
    assert environment_file(tmp_path / "root/etc/opsuite/stacks/zen-a.env") == {"OPSUITE_CONFIG": str(configs["zen-a"])}

    timers = {name: ini((unit_dir / f"opsuite-{name}@.timer").read_text())["Timer"] for name in CHECKS}
    assert timers["backup"]["OnCalendar"] == ["*-*-* 02:30:00"]
    assert timers["freshness"]["OnCalendar"] == ["*-*-* 06:00:00"]
    assert timers["restore-drill"]["OnCalendar"] == ["Sun *-*-01..07 04:00:00"]
    for timer in timers.values():
        assert timer["Persistent"] == ["true"] and timer["RandomizedDelaySec"] == ["10m"]
        assert "Unit" not in timer  # opsuite-X@STACK.timer starts opsuite-X@STACK.service
    # The freshness check waits for this stack's backup and drill, and does not need them to pass.
    freshness = ini((unit_dir / "opsuite-freshness@.service").read_text())["Unit"]
    assert "opsuite-backup@%i.service opsuite-restore-drill@%i.service" in freshness["After"]
    assert not {"Requires", "BindsTo", "Requisite"} & set(freshness)

    env = tmp_path / "root/etc/opsuite/opsuite.env"
    assert "[notify]" in env.read_text() and "REPORT_KEEP_DAYS" in env.read_text()
    assert "NOTIFY_URL=" not in env.read_text(), "the old GET notifier is gone: the template must not offer it"
    assert env.stat().st_mode & 0o077 == 0, "the env file may hold a token: not readable by others"
    assert not (tmp_path / "root/etc/cron.d").exists()
    # Not root /: nothing is enabled, the commands to run are printed instead.
    assert ("systemctl daemon-reload && systemctl enable --now opsuite-backup@zen-a.timer "
            "opsuite-freshness@zen-a.timer opsuite-restore-drill@zen-a.timer") in result.stdout


def test_two_stacks_on_one_host_get_their_own_schedules_and_configs(tmp_path, configs):
    root = tmp_path / "root"
    for project in STACKS:
        install(root, config=configs[project])
    stacks = root / "etc/opsuite/stacks"
    assert sorted(p.name for p in stacks.iterdir()) == ["zen-a.env", "zen-b.env"]
    for project in STACKS:
        assert environment_file(stacks / f"{project}.env") == {"OPSUITE_CONFIG": str(configs[project])}
    assert sorted(p.name for p in (root / "etc/systemd/system").iterdir()) == sorted(UNITS)  # templates, shared
    for project in STACKS:
        install(root, "--cron", config=configs[project])
    for project in STACKS:
        jobs = cron_jobs(root / f"etc/cron.d/opsuite-{project}")
        assert [job.split(" root ")[0] for job in jobs] == ["30 2 * * *", "0 6 * * *", "0 4 1-7 * *"]
        for job, check in zip(jobs, ("backup", "freshness", "restore_drill")):
            assert (f"cd {TARGET_REPO} && OPSUITE_CONFIG={configs[project]} .venv/bin/python -m procedures.log_to "
                    f"/var/log/opsuite-{project}-{check.replace('_', '-')}.log /bin/bash scripts/run-check.sh {check}") in job


def cron_jobs(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#") and " root " in line]


def test_cron_install_renders_the_three_schedules(tmp_path, configs):
    install(tmp_path / "root", "--cron", config=configs["zen-b"])
    cron = tmp_path / "root/etc/cron.d/opsuite-zen-b"
    text = cron.read_text()
    assert "@REPO@" not in text and "@CONFIG@" not in text and "@STACK@" not in text
    assert oct(cron.stat().st_mode & 0o777) == "0o644"
    backup, freshness, drill = cron_jobs(cron)
    assert backup.startswith("30 2 * * * root ")
    # Its own line, not chained to the backup's: it runs whether the backup passed, failed or never ran.
    assert freshness.startswith("0 6 * * * root ") and "run-check.sh backup" not in freshness
    assert drill.startswith("0 4 1-7 * * root ")
    assert 'date +\\%u)" = 7' in drill  # only the Sunday among days 1-7; % is escaped for cron
    assert "OPSUITE_ENV_FILE=/etc/opsuite/opsuite.env" in text.splitlines()
    assert (tmp_path / "root/etc/opsuite/opsuite.env").is_file()
    assert not (tmp_path / "root/etc/systemd").exists()


@pytest.mark.parametrize("mode", [[], ["--cron"]], ids=["systemd", "cron"])
def test_install_is_idempotent_and_keeps_an_existing_env_file(tmp_path, mode, configs):
    root = tmp_path / "root"
    install(root, *mode, config=configs["zen-a"])
    env = root / "etc/opsuite/opsuite.env"
    env.write_text("NOTIFY_URL=https://hooks.example/secret\n")
    installed = sorted(p for p in root.rglob("*") if p.is_file())
    before = {p: p.read_bytes() for p in installed}

    again = install(root, *mode, config=configs["zen-a"])
    assert env.read_text() == "NOTIFY_URL=https://hooks.example/secret\n"
    assert "kept existing" in again.stdout
    assert sorted(p for p in root.rglob("*") if p.is_file()) == installed  # no leftovers, no extras
    assert {p: p.read_bytes() for p in installed} == before


def test_install_warns_about_the_single_stack_units_of_earlier_versions(tmp_path, configs):
    old = tmp_path / "root/etc/systemd/system/opsuite-backup.timer"
    old.parent.mkdir(parents=True)
    old.write_text("[Timer]\nOnCalendar=*-*-* 02:30:00\n")
    result = install(tmp_path / "root", config=configs["zen-a"])
    assert f"WARNING: {old} is from an earlier, single-stack schedule" in result.stdout
    old_cron = tmp_path / "root/etc/cron.d/opsuite"
    old_cron.parent.mkdir(parents=True)
    old_cron.write_text("30 2 * * * root true\n")
    for mode in ([], ["--cron"]):
        assert f"WARNING: {old_cron} is from an earlier, single-stack schedule" in install(
            tmp_path / "root", *mode, config=configs["zen-a"]).stdout


def test_install_defaults_repo_and_config_to_this_checkout(tmp_path):
    subprocess.run(["bash", str(INSTALL), "--root", str(tmp_path)], check=True, capture_output=True, timeout=60)
    service = ini((tmp_path / "etc/systemd/system/opsuite-backup@.service").read_text())["Service"]
    assert service["WorkingDirectory"] == [str(ROOT)]
    assert environment_file(tmp_path / "etc/opsuite/stacks/zenops-example.env") == {"OPSUITE_CONFIG": str(ROOT / "ops.toml")}


@pytest.mark.parametrize("args, message", [
    (["--repo", "relative/path"], "--repo must be an absolute path"),
    (["--repo", "/opt/has space"], "has spaces or special characters"),
    (["--bogus"], "unknown argument '--bogus'"),
    (["--config", "relative/ops.toml"], "--config must be an absolute path"),
    (["--config", "/srv/has space/ops.toml"], "has spaces or special characters"),
    (["--config", "/nonexistent/ops.toml"], "config file /nonexistent/ops.toml not found"),
])
def test_install_refuses_bad_arguments(tmp_path, args, message):
    root = tmp_path / "root"
    root.mkdir()
    result = subprocess.run(["bash", str(INSTALL), "--root", str(root), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "install-schedule:" in result.stderr and message in result.stderr, result.stderr
    assert not any(root.iterdir())


def test_a_config_that_does_not_load_is_refused_naming_the_setting(tmp_path):
    bad = stack_config(tmp_path / "srv", "zen-a")
    bad.write_text(bad.read_text().replace("backup_max_age_hours = 26", "backup_max_age_hours = 0"))
    root = tmp_path / "root"
    root.mkdir()
    result = subprocess.run(["bash", str(INSTALL), "--root", str(root), "--config", str(bad)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "[freshness] backup_max_age_hours = 0: expected a number above 0" in result.stderr
    assert not any(root.iterdir())


def test_installed_units_of_two_stacks_pass_systemd_analyze(tmp_path, configs):
    root = tmp_path / "root"
    for project in STACKS:
        install(root, config=configs[project])
    unit_dir = root / "etc/systemd/system"
    # Instances of the templates, as the timers and services of each stack are loaded.
    instances = [str(unit_dir / f"opsuite-{name}@{project}.{kind}")
                 for project in STACKS for name in CHECKS for kind in ("timer", "service")]
    verify = subprocess.run(["systemd-analyze", "verify", *instances], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and "opsuite" not in verify.stderr, verify.stderr
    calendar = subprocess.run(["systemd-analyze", "calendar", "--iterations=3", "Sun *-*-01..07 04:00:00"],
                              capture_output=True, text=True, timeout=60, check=True).stdout
    elapses = [line for line in calendar.splitlines() if "Next elapse" in line or "Iter." in line]
    assert len(elapses) == 3 and all(" Sun " in line for line in elapses)
    days = [int(re.search(r"Sun \d{4}-\d\d-(\d\d) 04:00:00", line).group(1)) for line in elapses]
    assert all(1 <= day <= 7 for day in days)


# --- run-check.sh -------------------------------------------------------------------------------

FAKE_CONFTEST = '''
import json
from datetime import datetime, timezone
from pathlib import Path

STEPS = []


def pytest_addoption(parser):
    parser.addoption("--ops-config")  # the real plugin's option, passed through by run-check.sh


def pytest_runtest_logreport(report):
    if report.when == "call" or report.failed:
        error = str(report.longrepr).splitlines()[-1] if report.failed else None
        STEPS.append({"step": report.nodeid.split("::")[-1], "outcome": report.outcome, "error": error})


def pytest_sessionfinish(session, exitstatus):
    """Like the real root conftest and record plugin: reports/<check>/<UTC stamp>.html and its .json."""
    for arg in session.config.args:
        path = Path(arg.split("::")[0])
        if path.parent.name == "ops_checks":
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
            out = Path(__file__).parent / "reports" / path.stem / f"{stamp}.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(f"<html>exit {int(exitstatus)}</html>")
            record = {"check": path.stem, "outcome": "passed" if exitstatus == 0 else "failed", "steps": STEPS}
            out.with_suffix(".json").write_text(json.dumps(record))
'''


@pytest.fixture
def fake_repo(tmp_path):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(RUN_CHECK, repo / "scripts" / "run-check.sh")
    (repo / "procedures").symlink_to(ROOT / "procedures")  # the notifier and the config it loads
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "pytest").symlink_to(Path(sys.prefix) / "bin" / "pytest")
    python = repo / ".venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')  # this venv's, where Apprise is
    python.chmod(0o755)
    (repo / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (repo / "conftest.py").write_text(FAKE_CONFTEST)
    (repo / "ops_checks").mkdir()
    (repo / "ops_checks" / "passing.py").write_text("def test_ok():\n    assert True\n")
    (repo / "ops_checks" / "failing.py").write_text("def test_broken():\n    assert 1 == 2\n")
    return repo


def run_check(repo: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("NOTIFY_URL", "REPORT_KEEP_DAYS", "OPSUITE_ENV_FILE", "OPSUITE_CONFIG") and not k.startswith("PYTEST_")}
    full_env.update(env)
    result = subprocess.run([str(repo / "scripts" / "run-check.sh"), *args], cwd=cwd or "/",
                            env=full_env, capture_output=True, text=True, timeout=120)
    result.output = result.stdout + result.stderr
    return result


def last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_passing_check_exits_0_and_names_its_report(fake_repo):
    result = run_check(fake_repo, "passing")
    assert result.returncode == 0, result.output
    reports = list((fake_repo / "reports" / "passing").glob("*.html"))
    assert len(reports) == 1
    assert last_line(result) == f"opsuite: passing succeeded, report: {reports[0]}"


def test_failing_check_propagates_pytest_exit_code_loudly(fake_repo):
    result = run_check(fake_repo, "failing")
    assert result.returncode == 1, result.output
    [report] = (fake_repo / "reports" / "failing").glob("*.html")
    assert last_line(result) == f"opsuite: failing FAILED (exit 1), report: {report}"


def test_pytest_args_are_passed_through(fake_repo):
    result = run_check(fake_repo, "failing", "--deselect", "ops_checks/failing.py::test_broken")
    assert result.returncode == 5, result.output  # pytest: no tests ran; still non-zero, still loud
    assert "opsuite: failing FAILED (exit 5)" in last_line(result)


def test_runs_from_any_working_directory(fake_repo, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run_check(fake_repo, "passing", cwd=elsewhere).returncode == 0
    assert not (elsewhere / "reports").exists()


@pytest.mark.parametrize("name, message", [
    ("", "usage: scripts/run-check.sh CHECK"),
    ("Backup", "bad check name 'Backup'"),
    ("../passing", "bad check name"),
    ("passing.py", "bad check name"),
    ("missing", "no ops_checks/missing.py"),
])
def test_bad_check_name_exits_2_and_says_how_to_fix(fake_repo, name, message):
    result = run_check(fake_repo, *([name] if name else []))
    assert result.returncode == 2
    assert message in result.stderr
    assert not (fake_repo / "reports").exists()  # nothing ran


def test_missing_check_lists_the_available_ones(fake_repo):
    result = run_check(fake_repo, "missing")
    assert "failing passing" in result.stderr


def test_bad_retention_exits_2(fake_repo):
    result = run_check(fake_repo, "passing", REPORT_KEEP_DAYS="ninety")
    assert result.returncode == 2 and "REPORT_KEEP_DAYS" in result.stderr


# --- notifications ---------------------------------------------------------------------------------

SECRET = "SECRET-TOKEN-97531"


@pytest.fixture
def receiver():
    """Apprise's json:// target: a real HTTP server on 127.0.0.1 recording each post."""
    with json_receiver() as server:
        yield server


@pytest.fixture
def old_hook():
    """A NOTIFY_URL-style GET receiver: it must get nothing now."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received = received
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def ops_config(repo: Path, *urls: str, name: str = "ops.toml", on_success: bool = False) -> Path:
    """An ops config in the fake repo whose [notify] reads urls from its stack's env file."""
    (repo / "a.yml").write_text("services: {}\n")
    env = repo / f"{name}.env"
    env.write_text("NOTIFY_URLS=" + ",".join(urls) + "\n")
    config = repo / name
    config.write_text(f'[stack]\nproject = "fake"\ncompose_files = ["a.yml"]\nenv_file = "{env.name}"\n'
                      f'[notify]\nurls_variable = "NOTIFY_URLS"\non_success = {str(on_success).lower()}\n')
    return config


def secret_url(port: int) -> str:
    return f"json://ops:{SECRET}-PW@127.0.0.1:{port}/hook/{SECRET}?-token={SECRET}-Q"


def assert_secret_nowhere(repo: Path, result):
    __tracebackhide__ = True
    assert SECRET not in result.output
    for path in (repo / "reports").rglob("*"):
        assert path.is_dir() or SECRET not in path.read_text(), path


def test_a_failed_check_notifies_its_failed_step_error_and_report(fake_repo, receiver):
    ops_config(fake_repo, receiver.url())
    result = run_check(fake_repo, "failing")
    assert result.returncode == 1, result.output
    [report] = (fake_repo / "reports" / "failing").glob("*.html")
    [post] = receiver.posts
    assert post["json"]["type"] == "failure" and post["json"]["title"] == "opsuite fake: failing FAILED"
    assert post["json"]["message"].splitlines() == [
        "Stack: fake", "Check: failing", "Outcome: failed (exit 1)", "Failed step: test_broken",
        "Error: ops_checks/failing.py:2: AssertionError", f"Report: {report}"]
    assert f"opsuite: notified json://127.0.0.1:{receiver.port} ([notify] urls_variable entry 1)" in result.stdout
    assert last_line(result) == f"opsuite: failing FAILED (exit 1), report: {report}"


@pytest.mark.parametrize("on_success, posts", [(False, 0), (True, 1)])
def test_a_passing_check_notifies_only_with_on_success(fake_repo, receiver, on_success, posts):
    ops_config(fake_repo, receiver.url(), on_success=on_success)
    result = run_check(fake_repo, "passing")
    assert result.returncode == 0, result.output
    assert len(receiver.posts) == posts
    if posts:
        assert receiver.posts[0]["json"]["title"] == "opsuite fake: passing succeeded"


def test_the_config_is_ops_config_in_the_args_else_opsuite_config_else_ops_toml(fake_repo, receiver):
    ops_config(fake_repo, receiver.url(path="/default"))
    ops_config(fake_repo, receiver.url(path="/from-env"), name="env.toml")
    ops_config(fake_repo, receiver.url(path="/from-args"), name="args.toml")
    run_check(fake_repo, "failing")
    run_check(fake_repo, "failing", OPSUITE_CONFIG="env.toml")
    run_check(fake_repo, "failing", "--ops-config", "args.toml", OPSUITE_CONFIG="env.toml")
    run_check(fake_repo, "failing", f"--ops-config={fake_repo / 'args.toml'}")
    assert [post["path"] for post in receiver.posts] == ["/default", "/from-env", "/from-args", "/from-args"]


@pytest.mark.parametrize("check, code", [("passing", 0), ("failing", 1)])
def test_a_receiver_that_is_down_is_logged_and_keeps_the_checks_exit_code(fake_repo, closed_port, check, code):
    ops_config(fake_repo, secret_url(closed_port), on_success=True)
    result = run_check(fake_repo, check)
    assert result.returncode == code, result.output
    assert (f"opsuite: WARNING: notification to json://127.0.0.1:{closed_port} ([notify] urls_variable entry 1) "
            "not delivered: ") in result.stdout
    assert "opsuite: WARNING: notification failed (the check's result stands)" in result.stdout
    assert last_line(result).startswith(f"opsuite: {check} ")
    assert_secret_nowhere(fake_repo, result)


def test_the_urls_secret_is_used_and_never_printed(fake_repo, receiver):
    ops_config(fake_repo, secret_url(receiver.port))
    result = run_check(fake_repo, "failing")
    assert result.returncode == 1
    [post] = receiver.posts
    assert post["path"] == f"/hook/{SECRET}?token={SECRET}-Q"
    assert_secret_nowhere(fake_repo, result)


def test_a_url_that_does_not_parse_is_said_and_keeps_the_exit_code(fake_repo):
    ops_config(fake_repo, f"nosuchscheme://{SECRET}@example.test")
    result = run_check(fake_repo, "failing")
    assert result.returncode == 1
    assert "opsuite: WARNING: not notifying: " in result.stdout
    assert "[notify] urls_variable entry 1 is not a notification URL Apprise can parse" in result.stdout
    assert_secret_nowhere(fake_repo, result)


def test_a_notify_url_still_set_says_how_to_move_and_gets_nothing(fake_repo, receiver, old_hook):
    ops_config(fake_repo, receiver.url())
    result = run_check(fake_repo, "failing", NOTIFY_URL=f"{old_hook.base}/ping/{SECRET}")
    assert result.returncode == 1
    assert old_hook.received == [] and len(receiver.posts) == 1
    assert "opsuite: WARNING: NOTIFY_URL is no longer read" in result.stdout
    assert '[notify] urls_variable = "NOTIFY_URLS"' in result.stdout
    assert SECRET not in result.output


def test_env_file_for_cron_is_read_as_data(fake_repo, receiver, tmp_path):
    ops_config(fake_repo, receiver.url(path="/from-env-file"), name="stack.toml")
    marker = tmp_path / "executed"
    env_file = tmp_path / "opsuite.env"
    env_file.write_text(f"# comment\nOPSUITE_CONFIG={fake_repo / 'stack.toml'}\nREPORT_KEEP_DAYS=30\n"
                        f"EVIL=$(touch {marker})\n")
    result = run_check(fake_repo, "failing", OPSUITE_ENV_FILE=str(env_file))
    assert result.returncode == 1, result.output
    assert [post["path"] for post in receiver.posts] == ["/from-env-file"]
    assert not marker.exists()


def test_check_that_does_not_exist_yet_still_notifies_a_failure(fake_repo, receiver):
    """e.g. the monthly timer runs restore_drill before ops_checks/restore_drill.py is deployed."""
    ops_config(fake_repo, receiver.url())
    result = run_check(fake_repo, "restore_drill")
    assert result.returncode == 2
    assert "no ops_checks/restore_drill.py" in result.stderr
    [post] = receiver.posts
    assert post["json"]["title"] == "opsuite fake: restore_drill could not start"
    assert "Outcome: could not start (exit 2): no ops_checks/restore_drill.py in " in post["json"]["message"]
    assert "Report: none written" in post["json"]["message"]
    assert last_line(result) == "opsuite: restore_drill FAILED (exit 2), report: none written"
