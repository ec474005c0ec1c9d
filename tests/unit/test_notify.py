"""procedures/notify.py through Apprise to real receivers on 127.0.0.1: an HTTP server taking json://
posts and an SMTP server (aiosmtpd) taking mailto:// mail."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from procedures.notify import notify
from testkit.receivers import json_receiver, smtp_receiver

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("PASS-WORD-789", "TOKEN-IN-PATH-123", "TOKEN-IN-QUERY-456", "SMTP-PASS-4567")
RECORD = {
    "check": "backup", "project": "zen", "host": "vps1", "outcome": "failed",
    "started_at": "2026-12-01T02:30:00+00:00", "duration_seconds": 42.4,
    "steps": [{"step": "Disk space is enough", "outcome": "passed", "error": None},
              {"step": "Dump the database", "outcome": "failed",
               "error": "pg_dump: error: connection refused\n  detail on a second line"}],
}


@pytest.fixture
def receiver():
    with json_receiver() as server:
        yield server


@pytest.fixture
def mail():
    with smtp_receiver(login=("ops", SECRETS[3])) as server:
        yield server


def secret_json_url(port: int) -> str:
    """A json:// URL with a password, a token in the path and one in the query (Apprise passes a
    query parameter on when its name starts with -)."""
    return f"json://ops:{SECRETS[0]}@127.0.0.1:{port}/hook/{SECRETS[1]}?-token={SECRETS[2]}"


def stack(tmp_path: Path, *urls: str, on_success: bool = False) -> Path:
    """An ops config whose [notify] reads the URLs from the stack's env file."""
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=x\nNOTIFY_URLS=" + " ".join(urls) + "\n")
    config = tmp_path / "ops.toml"
    config.write_text('[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\nenv_file = ".env"\n'
                      f'[notify]\nurls_variable = "NOTIFY_URLS"\non_success = {str(on_success).lower()}\n')
    return config


def record(tmp_path: Path, document: dict = RECORD) -> Path:
    path = tmp_path / "reports" / "backup" / "20261201T023000Z.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def assert_no_secret(printed: str):
    __tracebackhide__ = True
    leaked = [s for s in SECRETS if s in printed]
    assert not leaked, f"printed {leaked}: {printed!r}"


def test_a_failure_reaches_the_json_receiver_with_step_error_and_report(tmp_path, receiver, capsys):
    path = record(tmp_path)
    assert notify("backup", 1, stack(tmp_path, secret_json_url(receiver.port)), path) is True
    [post] = receiver.posts
    assert post["path"] == f"/hook/{SECRETS[1]}?token={SECRETS[2]}"  # the URL's own path and query
    assert post["authorization"].startswith("Basic ")  # its credentials as HTTP auth
    assert post["json"]["type"] == "failure"
    assert post["json"]["title"] == "opsuite zen: backup FAILED"
    assert post["json"]["message"].splitlines() == [
        "Stack: zen", "Check: backup", "Outcome: failed (exit 1)", "Host: vps1",
        "Started: 2026-12-01T02:30:00+00:00 (42 s)", "Failed step: Dump the database",
        "Error: pg_dump: error: connection refused", f"Report: {path.with_suffix('.html')}"]
    printed = "".join(capsys.readouterr())
    assert printed == f"opsuite: notified json://127.0.0.1:{receiver.port} ([notify] urls_variable entry 1)\n"


def test_a_failure_reaches_the_smtp_server_as_mail_to_the_recipient(tmp_path, mail, capsys):
    url = mail.url(to="oncall@example.test", sender="opsuite@example.test")
    assert notify("backup", 1, stack(tmp_path, url), record(tmp_path)) is True
    [sent] = mail.mails
    assert mail.logins == [("ops", SECRETS[3])]  # the URL's credentials logged in
    assert sent["to"] == ["oncall@example.test"] and sent["from"] == "opsuite@example.test"
    assert sent["subject"] == "opsuite zen: backup FAILED"
    assert "Failed step: Dump the database\r\nError: pg_dump: error: connection refused\r\n" in sent["body"]
    assert "Report: " + str(tmp_path / "reports/backup/20261201T023000Z.html") in sent["body"]
    assert_no_secret("".join(capsys.readouterr()))


def test_every_target_gets_the_message_once(tmp_path, receiver, mail):
    urls = (receiver.url(path="/one"), mail.url(to="a@example.test"), receiver.url(path="/two"))
    assert notify("backup", 1, stack(tmp_path, *urls), record(tmp_path)) is True
    assert [post["path"] for post in receiver.posts] == ["/one", "/two"]
    assert [m["to"] for m in mail.mails] == [["a@example.test"]]


def test_success_notifies_only_when_on_success(tmp_path, receiver):
    passed = {**RECORD, "outcome": "passed", "steps": RECORD["steps"][:1]}
    assert notify("backup", 0, stack(tmp_path, receiver.url()), record(tmp_path, passed)) is True
    assert receiver.posts == []
    assert notify("backup", 0, stack(tmp_path, receiver.url(), on_success=True), record(tmp_path, passed)) is True
    [post] = receiver.posts
    assert post["json"]["type"] == "success" and post["json"]["title"] == "opsuite zen: backup succeeded"
    assert "Failed step" not in post["json"]["message"]


def test_a_check_that_could_not_start_notifies_without_a_record(tmp_path, receiver):
    assert notify("restore_drill", 2, stack(tmp_path, receiver.url()),
                  setup_error="no ops_checks/restore_drill.py in /opt/opsuite") is True
    [post] = receiver.posts
    assert post["json"]["title"] == "opsuite zen: restore_drill could not start"
    assert post["json"]["message"].splitlines() == [
        "Stack: zen", "Check: restore_drill",
        "Outcome: could not start (exit 2): no ops_checks/restore_drill.py in /opt/opsuite", "Report: none written"]


def test_a_damaged_record_still_notifies_and_says_so(tmp_path, receiver):
    path = record(tmp_path)
    path.write_text('{"check": "backup", "outc')
    assert notify("backup", 1, stack(tmp_path, receiver.url()), path) is True
    message = receiver.posts[0]["json"]["message"]
    assert f"Record: {path} could not be read (JSONDecodeError)" in message
    assert "Failed step: none recorded (see the report)" in message


def test_no_notify_section_sends_nothing(tmp_path, receiver, capsys):
    config = stack(tmp_path, receiver.url())
    config.write_text(config.read_text().split("[notify]")[0])
    assert notify("backup", 1, config, record(tmp_path)) is True
    assert receiver.posts == []
    assert capsys.readouterr().out == f"opsuite: no notification: {config} has no [notify] section\n"


def test_a_receiver_that_is_down_is_logged_by_scheme_and_host_and_the_others_still_get_it(
        tmp_path, receiver, closed_port, capsys):
    urls = (secret_json_url(closed_port), receiver.url())
    assert notify("backup", 1, stack(tmp_path, *urls), record(tmp_path)) is False
    assert len(receiver.posts) == 1
    printed = "".join(capsys.readouterr())
    assert printed.splitlines() == [
        f"opsuite: WARNING: notification to json://127.0.0.1:{closed_port} ([notify] urls_variable entry 1) not "
        "delivered: A Connection error occurred sending JSON notification to 127.0.0.1. (the check's result stands)",
        f"opsuite: notified json://127.0.0.1:{receiver.port} ([notify] urls_variable entry 2)"]
    assert_no_secret(printed)


def test_a_receiver_answering_500_is_not_delivered(tmp_path, receiver, capsys):
    receiver.code = 500
    assert notify("backup", 1, stack(tmp_path, secret_json_url(receiver.port)), record(tmp_path)) is False
    printed = "".join(capsys.readouterr())
    assert "not delivered: Failed to send JSON POST notification: Internal server error., error=500." in printed
    assert_no_secret(printed)


def test_smtp_refusing_the_login_is_not_delivered(tmp_path, mail, capsys):
    url = mail.url(to="oncall@example.test").replace(SECRETS[3], SECRETS[3] + "-WRONG") + "&cto=2"
    assert notify("backup", 1, stack(tmp_path, url), record(tmp_path)) is False
    assert mail.mails == []
    printed = "".join(capsys.readouterr())
    assert f"notification to mailto://127.0.0.1:{mail.port} ([notify] urls_variable entry 1) not delivered" in printed
    assert_no_secret(printed)


@pytest.mark.parametrize("up", [True, False], ids=["delivered", "receiver down"])
def test_main_as_run_check_runs_it_prints_no_secret_even_with_apprise_logging_everything(
        tmp_path, receiver, mail, closed_port, up):
    """`python -m procedures.notify` from the repo root, with Apprise's debug log on: the URLs' secrets
    appear in neither stdout nor stderr; exit 1 when a target was not reached."""
    port = receiver.port if up else closed_port
    config = stack(tmp_path, secret_json_url(port), mail.url(to="oncall@example.test") if up else
                   mail.url(to="oncall@example.test").replace(f":{mail.port}", f":{closed_port}"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONWARNINGS": "default"}
    debug = "import logging, runpy; logging.basicConfig(level=logging.DEBUG); " \
            "runpy.run_module('procedures.notify', run_name='__main__')"
    result = subprocess.run([sys.executable, "-c", debug, "backup", "1", "--ops-config", str(config),
                             "--record", str(record(tmp_path))], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == (0 if up else 1), result.stdout + result.stderr
    assert len(receiver.posts) == (1 if up else 0) and len(mail.mails) == (1 if up else 0)
    assert_no_secret(result.stdout + result.stderr)
    assert result.stdout.count("opsuite: ") == 2


LEAKY_CHECK = '''
import logging
from pathlib import Path

def test_step_shows_the_env_file(ops):
    text = Path(ops.config.stack.env_file).read_text()
    print(text)
    logging.getLogger("ops.leak").warning("env file: %s", text)
    assert text == "", f"the env file holds {text}"
'''


def test_a_check_that_shows_the_urls_puts_no_secret_in_its_report_record_or_terminal(pytester):
    """Loading [notify] registers the URLs' secrets, so a check that prints, logs or fails with them
    (the env file, a traceback) shows them masked everywhere the runbook writes."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "leaky.py").write_text(LEAKY_CHECK)
    stack(pytester.path, secret_json_url(9), "mailto://ops:" + SECRETS[3] + "@smtp.example.test?to=a@example.test")
    result = pytester.runpytest_subprocess("ops_checks/leaky.py", "-p", "no:cacheprovider", "-rA",
                                           "--ops-config", "ops.toml")
    result.assert_outcomes(failed=1)
    [report] = (pytester.path / "reports" / "leaky").glob("*.html")
    outputs = {"terminal": result.stdout.str() + result.stderr.str(), "HTML report": report.read_text(),
               "JSON record": report.with_suffix(".json").read_text()}
    assert [(where, s) for where, text in outputs.items() for s in SECRETS if s in text] == []
    # the path's token is masked only because loading [notify] registered it (no secret shape shows it)
    assert "NOTIFY_URLS=*** ***" in outputs["terminal"] and "NOTIFY_URLS=*** ***" in outputs["HTML report"]
    assert "***" in outputs["JSON record"]
