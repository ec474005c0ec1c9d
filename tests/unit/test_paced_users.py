"""The test load of the switch tests never has more requests in flight than it has users, so a slow
app gets fewer requests instead of a pile-up; a fast one gets the rate asked for."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from procedures.errors import UnsafeOperation
from testkit.paced_users import PacedUsers

pytestmark = pytest.mark.unit


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer_seconds: float):
        self.answer_seconds, self.in_flight, self.most_in_flight = answer_seconds, 0, 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        with server.lock:
            server.in_flight += 1
            server.most_in_flight = max(server.most_in_flight, server.in_flight)
        time.sleep(server.answer_seconds)
        with server.lock:
            server.in_flight -= 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(answer_seconds: float) -> _Server:
        server = _Server(answer_seconds)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_slow_app_never_has_more_requests_in_flight_than_users(serve):
    server = serve(answer_seconds=0.5)  # 4 users can ask 8 a second of the 40 the rate allows
    with PacedUsers(f"http://127.0.0.1:{server.server_address[1]}/notes", users=4, rate=40) as load:
        time.sleep(2.0)
    assert server.most_in_flight <= 4
    # each user waits for its answer: at most one request per answer time, whatever the machine's speed
    assert all(s.ok for s in load.samples) and len(load.samples) <= 4 * (load.seconds / 0.5 + 1)


def test_a_fast_app_gets_no_more_than_the_rate(serve):
    server = serve(answer_seconds=0.0)
    with PacedUsers(f"http://127.0.0.1:{server.server_address[1]}/notes", users=4, rate=20) as load:
        time.sleep(1.0)
    assert 0 < len(load.samples) <= 20 * load.seconds + 4  # each user's first request leaves at once
    assert load.summary()["failed"] == 0


def test_the_load_goes_to_loopback_only():
    with pytest.raises(UnsafeOperation, match="loopback only"):
        PacedUsers("http://example.org/notes")
