"""Which release serves, read as the config says (a JSON field, nested or not); which services a host
exposes beyond loopback. Real HTTP on loopback; the host's socket list is given (pure logic)."""

import http.server
import json
import threading
from types import SimpleNamespace

import pytest

from procedures.compose_model import published_ports
from procedures.load import load_config
from procedures.context import OpsContext, prepared_context
from procedures.errors import ConfigError, NotReady, OpsError
from procedures.stack import readiness
from procedures.stack.checkup import CheckupRun, internal_services_not_public

pytestmark = pytest.mark.unit
VERSION_DOCUMENT = {"version": "0.9.0", "git_sha": "abc123", "build": "1.4.2", "release": {"tag": "2026.11.27"}}


@pytest.fixture(scope="module")
def version_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(VERSION_DOCUMENT).encode() if self.path == "/version" else b"not json"
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def context(tmp_path, tag: str, **http) -> OpsContext:
    (tmp_path / "a.yml").write_text("services: {}\n")
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in http.items())
    (tmp_path / "ops.toml").write_text(f'[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n[http]\n{lines}')
    return prepared_context(load_config(tmp_path / "ops.toml"), tag)


@pytest.mark.parametrize("field, tag", [("version", "0.9.0"), ("build", "1.4.2"), ("release.tag", "2026.11.27")])
def test_the_configured_field_carries_the_release(tmp_path, version_server, field, tag):
    found = readiness.check_version(context(tmp_path, tag, base_url=version_server, version_field=field))
    assert found["version"] == tag and repr(field) in found["source"]


def test_another_release_or_a_missing_field_is_not_ready(tmp_path, version_server):
    with pytest.raises(NotReady, match="field 'build'.* reports '1.4.2', expected '1.5.0'"):
        readiness.check_version(context(tmp_path, "1.5.0", base_url=version_server, version_field="build"))
    with pytest.raises(NotReady, match="reports None"):
        readiness.check_version(context(tmp_path, "1.4.2", base_url=version_server, version_field="commit"))
    with pytest.raises(NotReady, match="not json"):
        readiness.check_version(context(tmp_path, "1.4.2", base_url=version_server, version_path="/other"))


def test_version_settings_are_checked_at_load(tmp_path):
    with pytest.raises(ConfigError, match="version_field is empty"):
        context(tmp_path, "1", version_field="")
    with pytest.raises(ConfigError, match=r'version_path = "version": expected a path starting with \'/\''):
        context(tmp_path, "1", version_path="version")
    with pytest.raises(ConfigError, match="contradict"):
        (tmp_path / "ca.pem").write_text("x")
        context(tmp_path, "1", ca_file="ca.pem", insecure=True)
    with pytest.raises(ConfigError, match="ca_file = .* does not exist"):
        context(tmp_path, "1", ca_file="missing.pem")
    assert context(tmp_path, "1", insecure=True).config.http.verify is False
    assert context(tmp_path, "1", ca_file="ca.pem").config.http.verify == str(tmp_path / "ca.pem")


MODEL = {"services": {
    "db": {"ports": [{"target": 5432, "published": "5433", "host_ip": "127.0.0.1"}]},
    "api": {},
    "reverse-proxy": {"ports": [{"target": 80, "published": "80"}, {"target": 443, "published": "443"}]},
}}


def checkup_with(model: dict) -> CheckupRun:
    compose = SimpleNamespace(rendered=lambda: model)
    config = SimpleNamespace(services=SimpleNamespace(proxy="reverse-proxy"))
    return CheckupRun(SimpleNamespace(compose=compose, config=config))


def host_listening(sockets: list[str]):
    return SimpleNamespace(socket=SimpleNamespace(get_listening_sockets=lambda: sockets))


def test_a_public_proxy_and_a_loopback_database_are_fine():
    sockets = ["tcp://0.0.0.0:80", "tcp://:::443", "tcp://127.0.0.1:5433"]
    found = internal_services_not_public(checkup_with(MODEL), host_listening(sockets))
    assert found["listening on those ports"] == ["tcp://127.0.0.1:5433"]
    assert published_ports(MODEL)[-1] == {"service": "reverse-proxy", "host_ip": "0.0.0.0", "published": "443",
                                          "target": 443, "protocol": "tcp"}


def test_a_database_published_on_every_interface_is_named_with_the_fix():
    model = {"services": {**MODEL["services"], "db": {"ports": [{"target": 5432, "published": "5432"}]}}}
    with pytest.raises(OpsError, match=r"internal service\(s\) db published beyond loopback.*127\.0\.0\.1"):
        internal_services_not_public(checkup_with(model), host_listening([]))


def test_a_socket_listening_beyond_loopback_is_caught_even_when_the_model_says_loopback():
    sockets = ["tcp://0.0.0.0:5433"]
    with pytest.raises(OpsError, match="db published beyond loopback"):
        internal_services_not_public(checkup_with(MODEL), host_listening(sockets))
