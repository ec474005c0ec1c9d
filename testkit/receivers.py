"""Real notification receivers on loopback for the notify tests: an HTTP server taking Apprise's json://
posts and an SMTP server (aiosmtpd) taking its mailto:// mail, each on a port the kernel picks."""

import email
import email.policy
import json
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class JsonReceiver:
    port: int
    code: int = 200  # what it answers
    posts: list[dict] = field(default_factory=list)  # {"path", "authorization", "json"}

    def url(self, userinfo: str = "", path: str = "/hook") -> str:
        """The json:// URL Apprise posts to this receiver with."""
        return f"json://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}{path}"


@contextmanager
def json_receiver() -> Iterator[JsonReceiver]:
    """An HTTP server on 127.0.0.1:0 recording every POST's path, Authorization and JSON body."""
    receiver = JsonReceiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.posts.append({"path": self.path, "authorization": self.headers.get("Authorization"),
                                   "json": json.loads(body)})
            self.send_response(receiver.code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpReceiver:
    port: int
    login: tuple[str, str] | None  # the only credentials it accepts, when given
    mails: list[dict] = field(default_factory=list)  # {"from", "to", "subject", "body", "logins"}
    logins: list[tuple[str, str]] = field(default_factory=list)

    def url(self, to: str, sender: str = "opsuite@example.test") -> str:
        """The mailto:// URL (plain SMTP, no TLS) Apprise sends through this receiver with."""
        userinfo = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        return f"mailto://{userinfo}127.0.0.1:{self.port}?from={sender}&to={to}&mode=insecure"


class _LoopbackController(Controller):
    """aiosmtpd's Controller, on the port the kernel gave (its readiness probe needs the real one)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_receiver(login: tuple[str, str] | None = None) -> Iterator[SmtpReceiver]:
    """An SMTP server on 127.0.0.1:0 keeping every mail; with login, AUTH is offered and checked
    (over plain SMTP: it is loopback)."""
    receiver = SmtpReceiver(port=0, login=login)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            part = message.get_body(preferencelist=("plain", "html"))
            receiver.mails.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                   "subject": str(message["Subject"]), "body": part.get_content() if part else ""})
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        given = (auth_data.login.decode(), auth_data.password.decode())
        receiver.logins.append(given)
        return AuthResult(success=given == login)

    options = {"authenticator": authenticator, "auth_require_tls": False} if login else {}
    with warnings.catch_warnings():  # AUTH without TLS is the point here: loopback, a test's own password
        warnings.simplefilter("ignore")
        controller = _LoopbackController(Handler(), hostname="127.0.0.1", port=0, **options)
        controller.start()
    receiver.port = controller.port
    try:
        yield receiver
    finally:
        controller.stop()
