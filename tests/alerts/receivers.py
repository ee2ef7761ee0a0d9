"""Real receivers on loopback: an HTTP server that records POSTs (scripted answers, or none at all)
and an aiosmtpd SMTP server on a port chosen by the OS."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

HANG_LIMIT_S = 30


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next scripted status (then 200) and `reply`, or never answers when `hang`."""

    statuses: list[int] = field(default_factory=list)
    hang: bool = False
    reply: bytes = b"ok"
    reply_type: str = "text/plain"
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.hang:
                    receiver._release.wait(HANG_LIMIT_S)  # a server that never answers (until teardown)
                    return
                self.send_response(status)
                self.send_header("Content-Type", receiver.reply_type)
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


class _LoopbackController(Controller):
    """aiosmtpd's Controller on port 0: learn the port the OS picked before the start-up probe."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpReceiver:
    """A real SMTP server recording every message; optional AUTH (plain text, loopback only)."""

    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        self.mails: list[Mail] = []
        self.logins: list[str] = []
        kwargs: dict[str, Any] = {}
        if username is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        self._creds = (username, password)
        self._controller = _LoopbackController(self, hostname="127.0.0.1", port=0, **kwargs)
        self._controller.start()

    @property
    def port(self) -> int:
        return int(self._controller.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        ok = (auth_data.login.decode(), auth_data.password.decode()) == self._creds
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def close(self) -> None:
        self._controller.stop()
