"""procedures/notify.py against a real HTTP server on 127.0.0.1."""

import base64
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from procedures.notify import notify

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("PASS-WORD-789", "TOKEN-IN-PATH-123", "TOKEN-IN-QUERY-456")


@pytest.fixture
def hook():
    """A real HTTP server on 127.0.0.1 recording each request; answers hook.code (200 unless set)."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlsplit(self.path)
            received.append({"path": url.path, "query": parse_qs(url.query),
                             "authorization": self.headers.get("Authorization")})
            self.send_response(server.code)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.code = 200
    server.received = received
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that accepts connections (backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield sock.getsockname()[1]
    sock.close()


def secret_url(base: str) -> str:
    """base with a password, a token in the path and a token in the query."""
    scheme, _, hostport = base.partition("://")
    return f"{scheme}://ops:{SECRETS[0]}@{hostport}/hook/{SECRETS[1]}?token={SECRETS[2]}"


def assert_no_secret(printed: str):
    __tracebackhide__ = True
    leaked = [s for s in SECRETS if s in printed]
    assert not leaked, f"printed {leaked}: {printed!r}"


def test_query_parameters_arrive_after_the_urls_own(hook, capsys):
    assert notify(f"{hook.base}/ping?a=1&b=2", "backup", "failure", 3) is True
    [request] = hook.received
    assert request["path"] == "/ping"
    assert request["query"] == {"a": ["1"], "b": ["2"], "check": ["backup"], "status": ["failure"],
                                "exit_code": ["3"]}
    assert request["authorization"] is None
    assert capsys.readouterr().out == f"opsuite: notified {hook.base} (status=failure, HTTP 200)\n"


def test_url_credentials_arrive_as_basic_auth_and_are_never_printed(hook, capsys):
    url = secret_url(hook.base).replace("ops:", "ops%40team:")  # percent-encoded user is decoded
    assert notify(url, "backup", "success", 0) is True
    [request] = hook.received
    assert request["authorization"] == "Basic " + base64.b64encode(f"ops@team:{SECRETS[0]}".encode()).decode()
    assert request["path"] == f"/hook/{SECRETS[1]}"
    assert request["query"]["token"] == [SECRETS[2]]
    printed = "".join(capsys.readouterr())
    assert printed == f"opsuite: notified {hook.base} (status=success, HTTP 200)\n"
    assert_no_secret(printed)


def test_http_500_is_false_and_warns_naming_only_scheme_and_host(hook, capsys):
    hook.code = 500
    assert notify(secret_url(hook.base), "backup", "failure", 1) is False
    assert len(hook.received) == 1
    printed = "".join(capsys.readouterr())
    assert printed == f"opsuite: WARNING: notification to {hook.base} answered HTTP 500\n"
    assert_no_secret(printed)


def test_refused_connection_is_false_and_warns_naming_only_scheme_and_host(closed_port, capsys):
    base = f"http://127.0.0.1:{closed_port}"
    assert notify(secret_url(base), "backup", "failure", 1) is False
    printed = "".join(capsys.readouterr())
    assert printed.startswith(f"opsuite: WARNING: notification to {base} not delivered: ")
    assert "refused" in printed.lower() and printed.count("\n") == 1
    assert_no_secret(printed)


def test_silent_server_times_out_false_and_warns(silent_port, capsys):
    base = f"http://127.0.0.1:{silent_port}"
    assert notify(secret_url(base), "backup", "success", 0, timeout=0.5) is False
    printed = "".join(capsys.readouterr())
    assert printed == f"opsuite: WARNING: notification to {base} not delivered: TimeoutError\n"
    assert_no_secret(printed)


@pytest.mark.parametrize("url, scheme", [
    (f"ftp://ops:{SECRETS[0]}@127.0.0.1/{SECRETS[1]}?token={SECRETS[2]}", "ftp"),
    (f"file:///etc/{SECRETS[1]}", "file"),
    (f"127.0.0.1/{SECRETS[1]}", "no"),
    ("http:///no-host", "http"),
])
def test_non_http_url_is_refused_without_sending(hook, capsys, url, scheme):
    url = url.replace("127.0.0.1", hook.base.removeprefix("http://"))  # a refusal, not a failed attempt
    assert notify(url, "backup", "success", 0) is False
    assert hook.received == []
    printed = "".join(capsys.readouterr())
    assert printed == ("opsuite: WARNING: not notifying: NOTIFY_URL must be an http(s) URL "
                       f"(got {scheme} scheme)\n")
    assert_no_secret(printed)


@pytest.mark.parametrize("code, exit_code", [(200, 0), (500, 1)])
def test_main_reads_the_environment_and_needs_only_the_standard_library(hook, code, exit_code):
    """As run-check.sh runs it: `python -m procedures.notify` from the repo root, no site-packages (-S)."""
    hook.code = code
    env = {"PATH": os.environ["PATH"], "NOTIFY_URL": secret_url(hook.base),
           "OPSUITE_CHECK": "backup", "OPSUITE_STATUS": "failure", "OPSUITE_EXIT_CODE": "4"}
    result = subprocess.run([sys.executable, "-S", "-m", "procedures.notify"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == exit_code, result.stdout + result.stderr
    [request] = hook.received
    assert {k: request["query"][k] for k in ("check", "status", "exit_code")} == \
        {"check": ["backup"], "status": ["failure"], "exit_code": ["4"]}
    assert result.stderr == ""
    assert_no_secret(result.stdout)
