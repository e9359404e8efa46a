"""Small HTTP servers for the federation tests: bound to 127.0.0.1 on a free port, stopped by the fixture."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Route = Callable[[BaseHTTPRequestHandler, dict[str, list[str]]], None]


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def reply_json(handler: BaseHTTPRequestHandler, data: Any, status: int = 200) -> None:
    reply(handler, status, json.dumps(data).encode(), {"Content-Type": "application/taxii+json;version=2.1"})


class Server:
    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                outer.requests.append((self.command, self.path, dict(self.headers.items())))
                route = outer.routes.get(parts.path)
                if route is None:
                    reply(self, 404, b"not found")
                    return
                route(self, parse_qs(parts.query))

            do_GET = _handle  # noqa: N815
            do_POST = _handle  # noqa: N815

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # the client gave up (timeouts are what some tests check)

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving(routes: dict[str, Route]) -> Iterator[Server]:
    server = Server(routes)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def redirect_to(target: str, status: int = 302) -> Route:
    def route(handler: BaseHTTPRequestHandler, _query: dict[str, list[str]]) -> None:
        reply(handler, status, b"", {"Location": target})

    return route


def hang(seconds: float = 5.0) -> Route:
    def route(handler: BaseHTTPRequestHandler, _query: dict[str, list[str]]) -> None:
        time.sleep(seconds)
        reply(handler, 200, b"{}")

    return route


def echo_headers(handler: BaseHTTPRequestHandler, _query: dict[str, list[str]]) -> None:
    reply_json(handler, dict(handler.headers.items()))


class FakeTaxii:
    """A scripted TAXII 2.1 server: discovery, API root and one collection whose object pages the test sets."""

    COLLECTION = "c0ffee00-0000-4000-8000-000000000001"

    def __init__(self) -> None:
        self.pages: list[Route] = []  # one route per successive objects request (the last one repeats)
        self.posted: list[Any] = []
        self.calls = 0
        self.pending_first = False  # answer POSTs with a pending status that the status endpoint then completes
        self.server = Server(
            {
                "/taxii2/": self._discovery,
                "/api1/": lambda h, q: reply_json(h, {"title": "fake", "versions": [], "max_content_length": 10**6}),
                f"/api1/collections/{self.COLLECTION}/": lambda h, q: reply_json(
                    h, {"id": self.COLLECTION, "title": "c", "can_read": True, "can_write": True}
                ),
                f"/api1/collections/{self.COLLECTION}/objects/": self._objects,
                "/api1/status/s1/": lambda h, q: reply_json(
                    h, {"id": "s1", "status": "complete", "success_count": len(self.posted[-1]["objects"])}
                ),
            }
        )
        self.url = f"{self.server.url}/taxii2/"

    def _discovery(self, handler: BaseHTTPRequestHandler, _query: dict[str, list[str]]) -> None:
        reply_json(handler, {"title": "fake", "default": f"{self.server.url}/api1/"})

    def _objects(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        if handler.command == "POST":
            length = int(handler.headers.get("Content-Length", "0"))
            self.posted.append(json.loads(handler.rfile.read(length)))
            if self.pending_first:
                reply_json(handler, {"id": "s1", "status": "pending", "success_count": 0, "pending_count": 1}, 202)
            else:
                reply_json(handler, {"id": "s1", "status": "complete", "success_count": 1, "failure_count": 0}, 202)
            return
        route = self.pages[min(self.calls, len(self.pages) - 1)]
        self.calls += 1
        route(handler, query)


def envelope(objects: list[dict[str, Any]], *, more: bool = False, next_token: str | None = None,
             added_last: str = "2026-11-20T00:00:00.000000Z") -> Route:  # fmt: skip
    def route(handler: BaseHTTPRequestHandler, _query: dict[str, list[str]]) -> None:
        body: dict[str, Any] = {"objects": objects, "more": more}
        if next_token:
            body["next"] = next_token
        reply(
            handler,
            200,
            json.dumps(body).encode(),
            {"Content-Type": "application/taxii+json;version=2.1", "X-TAXII-Date-Added-Last": added_last},
        )

    return route


def garbage(body: bytes = b'{"objects": [{"type": "indicator", "id": ') -> Route:
    def route(handler: BaseHTTPRequestHandler, _query: dict[str, list[str]]) -> None:
        reply(handler, 200, body, {"Content-Type": "application/taxii+json;version=2.1"})

    return route


@contextmanager
def fake_taxii() -> Iterator[FakeTaxii]:
    fake = FakeTaxii()
    fake.server.start()
    try:
        yield fake
    finally:
        fake.server.stop()


def self_signed(workdir: Any, name: str) -> tuple[str, str]:
    """A certificate for ``name`` (and its key), self-signed: (cert path, key path)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "cert.pem", workdir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


@contextmanager
def serving_tls(routes: dict[str, Route], cert: str, key: str) -> Iterator[Server]:
    import ssl

    server = Server(routes)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True, do_handshake_on_connect=False)
    server.url = f"https://127.0.0.1:{server.port}"
    server.start()
    try:
        yield server
    finally:
        server.stop()
