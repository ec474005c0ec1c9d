"""What the suite writes itself (the ledger, the audit log, reports) is redacted, 0600 in 0700."""

import json
import os
import stat

import pytest

from procedures import ledger
from procedures.private_files import open_private, private_dir
from procedures.redact import MASK, redact_data

pytestmark = pytest.mark.unit

LOG_TAIL = ("migrate: exit 1\napp-1  | connecting to postgresql://zen:tail-url-pw-4410@db/zen\n"
            'app-1  | SMTP_PASS="tail smtp pass" DB_PWD=tail-db-pwd-4411')
TAIL_SECRETS = ["tail-url-pw-4410", "tail smtp pass", "tail-db-pwd-4411"]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def world_readable_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_ledger_and_audit_log_are_created_private(tmp_path):
    state_dir = tmp_path / "var" / "lib" / "opsuite"
    ledger.append_release(str(state_dir), "zen", {"action": "deploy", "tag": "1.0.0", "outcome": "deployed"})
    ledger.audit(str(state_dir), "zen", "deploy 1.0.0 deployed")
    assert [mode(p) for p in (tmp_path / "var", tmp_path / "var" / "lib", state_dir, state_dir / "zen")] == [0o700] * 4
    assert [mode(state_dir / "zen" / name) for name in ("releases.jsonl", "audit.log")] == [0o600, 0o600]


def test_existing_project_state_is_tightened_and_a_shared_state_dir_is_left_alone(tmp_path):
    (tmp_path / "zen").mkdir(mode=0o755)
    for name in ("releases.jsonl", "audit.log"):
        (tmp_path / "zen" / name).touch(mode=0o644)
    os.chmod(tmp_path, 0o755)
    ledger.append_release(str(tmp_path), "zen", {"action": "deploy", "tag": "1.0.0", "outcome": "deployed"})
    ledger.audit(str(tmp_path), "zen", "deploy 1.0.0 deployed")
    assert mode(tmp_path) == 0o755, "state_dir may be shared (/var/lib): only <state_dir>/<project> is the suite's"
    assert [mode(tmp_path / "zen"), mode(tmp_path / "zen" / "releases.jsonl"), mode(tmp_path / "zen" / "audit.log")] \
        == [0o700, 0o600, 0o600]


def test_ledger_entries_and_audit_lines_are_redacted(tmp_path):
    entry = ledger.append_release(str(tmp_path), "zen", {
        "action": "deploy", "tag": "1.0.0", "outcome": "failed", "error": LOG_TAIL,
        "env": {"API_TOKEN": "entry-token-4412"}})
    ledger.audit(str(tmp_path), "zen", f"deploy 1.0.0 failed: {LOG_TAIL}")
    written = (tmp_path / "zen" / "releases.jsonl").read_text() + (tmp_path / "zen" / "audit.log").read_text()
    for secret in [*TAIL_SECRETS, "entry-token-4412"]:
        assert secret not in written
        assert secret not in json.dumps(entry)
    assert ledger.releases(str(tmp_path), "zen")[-1]["env"] == {"API_TOKEN": MASK}
    assert len((tmp_path / "zen" / "audit.log").read_text().splitlines()) == 1, "one line per action"


def test_redacted_data_stays_valid_json_where_redacting_the_dump_would_cut_a_string():
    data = {"error": 'login: PASSWORD="a b" then \\"quoted\\"', "password_changed": True, "tags": ("1.0", None)}
    text = json.dumps(redact_data(data))
    assert json.loads(text) == {"error": 'login: PASSWORD="***" then \\"quoted\\"', "password_changed": True,
                                "tags": ["1.0", None]}


def test_a_shared_sticky_directory_is_never_tightened(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    private_dir(shared)
    assert mode(shared) == 0o1777


def test_an_existing_world_readable_file_is_tightened_when_written(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old")
    os.chmod(path, 0o644)
    with open_private(path) as out:
        out.write("new")
    assert (mode(path), path.read_text()) == (0o600, "new")
