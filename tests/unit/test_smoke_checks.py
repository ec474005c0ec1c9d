"""Smoke checks that fit the app (issue 25 item 7, seed 003's authenticated checks): a method, headers
whose values come from the environment and never reach argv, logs or results, allowed statuses and
JSON-field assertions, each validated at load; and a /version whose release field is empty."""

import http.server
import json
import threading

import pytest

from procedures.commands import docker as docker_cmd
from procedures.config import SmokeCheck
from procedures.load import load_config
from procedures.errors import ConfigError
from procedures.redact import redact
from procedures.stack import readiness, smoke_checks
from procedures.stack.readiness import HttpResult, unset_field

pytestmark = pytest.mark.unit
BASE = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n'


def loaded(tmp_path, smoke: str):
    (tmp_path / "a.yml").write_text("services: {}\n")
    (tmp_path / "ops.toml").write_text(BASE + "[[deploy.smoke]]\n" + smoke)
    return load_config(tmp_path / "ops.toml").deploy.smoke[0]


def test_a_full_check_loads(tmp_path):
    check = loaded(tmp_path, 'path = "/me"\nmethod = "post"\nstatuses = [200, 204]\n'
                             'headers = { Authorization = "SMOKE_AUTHORIZATION" }\n'
                             'json_fields = { status = "ok", "user.active" = true }\n')
    assert (check.method, check.allowed, check.headers) == ("POST", (200, 204), (("Authorization", "SMOKE_AUTHORIZATION"),))
    assert check.json_fields == (("status", "ok"), ("user.active", True))


def test_a_plain_check_is_what_it_was(tmp_path):
    check = loaded(tmp_path, 'path = "/healthz"\nstatus = 204\ncontains = "ok"\n')
    assert (check.method, check.allowed, check.headers, check.json_fields) == ("GET", (204,), (), ())


@pytest.mark.parametrize("smoke, message", [
    ('path = "/me"\nmethod = "FETCH"\n', r'\[\[deploy.smoke\]\] #1 method = "FETCH": expected an HTTP method: GET, HEAD'),
    ('path = "/me"\nstatuses = [200, 42]\n', r"\[\[deploy.smoke\]\] #1 statuses\[1\] = 42: expected a whole number from 100 to 599"),
    ('path = "/me"\nheaders = { Authorization = "Bearer abc123" }\n', r"#1 headers.Authorization = .*: expected a variable name in quotes"),
    ('path = "/me"\nheaders = { "Bad Header" = "X" }\n', r'#1 headers has the key "Bad Header": expected a header name'),
    ('path = "/me"\nheaders = ["Authorization"]\n', r'#1 headers = \["Authorization"\]: expected a table, each value a variable name.*e.g. headers = \{\} \(the default\)'),
    ('path = "/me"\njson_fields = { user = { id = 1 } }\n', r"#1 json_fields.user = \{ id = 1 \}: expected a string, number or true/false"),
    ('path = "/me"\nverb = "GET"\n', r"#1 verb is not a setting of \[\[deploy.smoke\]\] #1: remove it; the known ones are path, status"),
])
def test_bad_checks_are_refused_at_load_naming_the_setting(tmp_path, smoke, message):
    with pytest.raises(ConfigError, match=message):
        loaded(tmp_path, smoke)


def test_header_values_come_from_the_environment_and_are_redacted(monkeypatch):
    monkeypatch.setenv("SMOKE_AUTHORIZATION", "Bearer s3cr3t-token-value-xyz")
    check = SmokeCheck("/me", headers=(("Authorization", "SMOKE_AUTHORIZATION"),))
    assert smoke_checks.header_values(check) == {"Authorization": "Bearer s3cr3t-token-value-xyz"}
    assert "s3cr3t-token-value-xyz" not in redact("sent Bearer s3cr3t-token-value-xyz")


def test_an_unset_header_variable_is_refused_naming_it(monkeypatch):
    monkeypatch.delenv("SMOKE_AUTHORIZATION", raising=False)
    with pytest.raises(ConfigError, match="reads the environment variable SMOKE_AUTHORIZATION, which is not set"):
        smoke_checks.header_values(SmokeCheck("/me", headers=(("Authorization", "SMOKE_AUTHORIZATION"),)))


def test_the_probes_request_carries_header_names_and_variables_never_values():
    argv = docker_cmd.http_get_from("probe", "http://web:8000/me", 5, "POST", {"Authorization": "OPSUITE_HEADER_0"})
    assert argv[:6] == ["docker", "exec", "--env", "OPSUITE_HEADER_0", "probe", "python3"]
    assert argv[-4:] == ["http://web:8000/me", "5", "POST", "Authorization=OPSUITE_HEADER_0"]


@pytest.mark.parametrize("status, body, ok, json_said", [
    (200, '{"status": "ok", "user": {"active": true}}', True, "as expected"),
    (204, '{"status": "ok", "user": {"active": true}}', True, "as expected"),
    (200, '{"status": "degraded", "user": {"active": 1}}', False,
     'status is "degraded", expected "ok"; user.active is 1, expected true'),
    (200, '{"status": "ok"}', False, "user.active is absent"),
    (200, "<html>", False, "the answer is not JSON (expected fields status, user.active)"),
    (500, '{"status": "ok", "user": {"active": true}}', False, "as expected"),
])
def test_judge_status_among_the_allowed_and_json_fields(status, body, ok, json_said):
    check = SmokeCheck("/me", statuses=(200, 204), headers=(("Authorization", "SMOKE_AUTHORIZATION"),),
                       json_fields=(("status", "ok"), ("user.active", True)))
    row = smoke_checks.judge(check, status, body, 0.01)
    assert (row["ok"], row["json"], row["expected"], row["headers"]) == (ok, json_said, [200, 204], ["Authorization"])


@pytest.mark.parametrize("body, unset", [
    ('{"build": ""}', "empty"), ('{"build": "  "}', "empty"), ('{"version": "1.0"}', "absent"),
    ('{"build": null}', "absent"), ('{"build": "1.2.0"}', None), ("not json", None), ("[1]", None)])
def test_an_empty_or_absent_version_field_is_told_apart_from_a_release(body, unset):
    assert unset_field(HttpResult("http://x/version", 200, body, 0.0), "build") == unset


def test_a_failing_version_answer_is_no_fallback():
    assert unset_field(HttpResult("http://x/version", 503, '{"build": ""}', 0.0), "build") is None


class _Echo(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        body = json.dumps({"method": self.command, "authorization": self.headers.get("Authorization")}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def test_get_sends_the_method_and_headers_over_real_http():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = readiness.get(f"http://127.0.0.1:{server.server_port}", "/me", method="POST",
                               headers={"Authorization": "Bearer t"})
    finally:
        server.shutdown()
        server.server_close()
    assert (answer.status, answer.json()) == (200, {"method": "POST", "authorization": "Bearer t"})


def test_the_probes_script_sends_the_method_and_reads_header_values_from_its_environment():
    """The script a probe container runs (commands/docker._HTTP_GET), run here by this python3
    against a real server: the value reaches the server from the environment, not from argv."""
    import os
    import subprocess
    import sys

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    argv = docker_cmd.http_get_from("probe", f"http://127.0.0.1:{server.server_port}/me", 5, "POST",
                                    {"Authorization": "OPSUITE_HEADER_0"})
    script_and_args = argv[argv.index("python3") + 1:]
    try:
        done = subprocess.run([sys.executable, *script_and_args], capture_output=True, text=True, timeout=30,
                              env={**os.environ, "OPSUITE_HEADER_0": "Bearer from-env"})
    finally:
        server.shutdown()
        server.server_close()
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert (answer["status"], json.loads(answer["body"])) == (200, {"method": "POST", "authorization": "Bearer from-env"})
    assert "from-env" not in " ".join(argv)
