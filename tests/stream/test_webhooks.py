"""Webhooks: signed deliveries to a real local receiver, retries with backoff, dead letters and redelivery,
targets that hang or redirect; target checks; the /webhooks page."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.errors import InvalidInput, PermissionDenied
from herdsec.core.outbound import OutboundPolicy
from herdsec.intel.webhooks import service
from herdsec.intel.webhooks.logic import backoff, signature, verify
from herdsec.intel.webhooks.schemas import WebhookIn
from tests.factories import Member, make_member
from tests.intel_factories import indicator, share
from tests.stream.live import LiveHub, prepare, running_hub, scratch_url
from tests.test_pages import csrf, log_in

HTML = {"Accept": "text/html"}
LOOPBACK = OutboundPolicy.parse("loopback")
PUBLIC_ONLY = OutboundPolicy.parse("")


@dataclass
class Receiver:
    """A local HTTP receiver: /ok answers 204, /fail 500 (until healed), /hang never in time, /redirect 302."""

    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    healed: bool = False
    url: str = ""

    def count(self, path: str) -> int:
        return len([r for r in self.requests if r[0] == path])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            state.requests.append((self.path, dict(self.headers), body))
            if self.path == "/hang":
                time.sleep(2)
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/ok")
                self.end_headers()
                return
            self.send_response(500 if self.path == "/fail" and not state.healed else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


FAST = {
    "webhook_timeout_seconds": 0.5,
    "webhook_backoff_seconds": 0.05,
    "webhook_backoff_cap_seconds": 0.2,
    "webhook_max_attempts": 3,
    "webhook_poll_seconds": 0.1,
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHub, list[Member]]]:
    with scratch_url("sqlite", tmp_path_factory.mktemp("hooks")) as url:
        members = prepare(url, "analyst", "admin")
        with running_hub(url, **FAST) as live:
            yield live, members


def _hook(live: LiveHub, member: Member, url: str, **filters: str) -> str:
    with live.database.transaction() as session:
        return service.create(session, member.principal, WebhookIn(url=url, **filters), policy=LOOPBACK).secret


def _wait(condition: object, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _dead(live: LiveHub, member: Member) -> list[service.DeliveryOut]:
    with live.database.transaction() as session:
        return service.deliveries(session, member.principal, status="dead")


def test_deliveries_are_signed_and_respect_visibility(hub: tuple[LiveHub, list[Member]], receiver: Receiver) -> None:
    live, (a, b) = hub
    secret = _hook(live, b, receiver.url + "/ok", types="indicator")
    private, public = indicator("198.51.100.80"), indicator("198.51.100.81")
    live.share(a.key, private, tlp="amber", distribution="organization")
    live.share(a.key, public, tlp="green")
    _wait(lambda: receiver.count("/ok") >= 1)
    time.sleep(0.3)
    assert receiver.count("/ok") == 1  # the private one never goes to another organization
    _path, headers, body = receiver.requests[0]
    assert json.loads(body)["id"] == public["id"]
    assert verify(secret, body, headers["X-HerdSec-Signature"], int(time.time()))
    assert not verify("another secret", body, headers["X-HerdSec-Signature"], int(time.time()))
    assert headers["X-HerdSec-Event-Id"] == json.loads(body)["event_id"]


def test_a_failing_target_is_retried_then_dead_lettered_then_redelivered(
    hub: tuple[LiveHub, list[Member]], receiver: Receiver
) -> None:
    live, (a, b) = hub
    _hook(live, b, receiver.url + "/fail")
    before = len(_dead(live, b))
    ind = indicator("198.51.100.82")
    live.share(a.key, ind, tlp="green")
    _wait(lambda: len(_dead(live, b)) > before)
    assert receiver.count("/fail") == 3  # HERDSEC_WEBHOOK_MAX_ATTEMPTS
    dead = _dead(live, b)[0]
    assert dead.attempts == 3 and dead.last_error == "HTTP 500" and dead.last_status == 500
    receiver.healed = True
    with live.database.transaction() as session:
        service.redeliver(session, b.principal, dead.id)
    live.app.state.webhook_worker.wake()
    _wait(lambda: receiver.count("/fail") == 4)
    _wait(lambda: all(d.id != dead.id for d in _dead(live, b)))
    with live.database.transaction() as session:
        done = [d for d in service.deliveries(session, b.principal, status="delivered") if d.id == dead.id]
    assert done and done[0].attempts == 1


@pytest.mark.parametrize(("path", "error"), [("/hang", "timed out after 0.5 s"), ("/redirect", "(not followed)")])
def test_hanging_and_redirecting_targets_fail_and_are_dead_lettered(
    hub: tuple[LiveHub, list[Member]], receiver: Receiver, path: str, error: str
) -> None:
    live, (a, b) = hub
    _hook(live, b, receiver.url + path)
    before = len(_dead(live, b))
    live.share(a.key, indicator("198.51.100.83" if path == "/hang" else "198.51.100.84"), tlp="green")
    _wait(lambda: len(_dead(live, b)) > before, timeout=15)
    assert error in (_dead(live, b)[0].last_error or "")
    assert receiver.count("/ok") == 0  # the redirect was not followed


# --- without a server ------------------------------------------------------------------------------------------


def test_signature_format_and_verification() -> None:
    header = signature("s3cret", b'{"a":1}', 1700000000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify("s3cret", b'{"a":1}', header, 1700000100)
    assert not verify("s3cret", b'{"a":2}', header, 1700000100)
    assert not verify("s3cret", b'{"a":1}', header, 1700009999)  # too old: replayed
    assert not verify("s3cret", b'{"a":1}', "garbage", 1700000000)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(n, 10, 60) for n in range(1, 6)] == [10, 20, 40, 60, 60]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8080/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[fe80::1]/x",
        "http://224.0.0.1/x",
        "http://0.0.0.0/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://100.64.0.1/x",
    ],
)
def test_targets_on_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        service.check_target(url, PUBLIC_ONLY)


@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/x", "file:///etc/passwd", "http:///x", "http://u:p@93.184.216.34/"]
)
def test_malformed_targets_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        service.check_target(url, LOOPBACK)


def test_public_and_allowed_targets_pass() -> None:
    assert service.check_target("https://93.184.216.34/hook", PUBLIC_ONLY).address == "93.184.216.34"
    assert service.check_target("http://127.0.0.1:9/hook", LOOPBACK).address == "127.0.0.1"
    with pytest.raises(InvalidInput, match="private"):
        service.check_target("http://10.0.0.1/hook", LOOPBACK)


def test_only_admins_of_member_organizations_manage_webhooks(session: Session) -> None:
    analyst = make_member(session, "analyst")
    with pytest.raises(PermissionDenied):
        service.create(session, analyst.principal, WebhookIn(url="https://93.184.216.34/h"), policy=PUBLIC_ONLY)


def test_enqueue_applies_the_organizations_view_and_filters(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "admin")
    service.create(session, b.principal, WebhookIn(url="https://93.184.216.34/h", tlp="clear"), policy=PUBLIC_ONLY)
    session.commit()
    share(session, a.principal, indicator("198.51.100.90"), tlp="green")
    share(session, a.principal, indicator("198.51.100.91"), tlp="clear")
    share(session, a.principal, indicator("198.51.100.92"), tlp="clear", distribution="organization")
    session.commit()
    assert service.enqueue(session) == 1
    assert service.enqueue(session) == 0  # the cursor moved
    claims = service.claim(session, utcnow())
    assert len(claims) == 1 and "198.51.100.91" in claims[0].body
    assert service.claim(session, utcnow()) == []  # leased


def test_webhooks_never_carry_red_not_even_the_organizations_own(session: Session) -> None:
    admin = make_member(session, "admin")
    service.create(session, admin.principal, WebhookIn(url="https://93.184.216.34/h"), policy=PUBLIC_ONLY)
    session.commit()
    share(session, admin.principal, indicator("198.51.100.93"), tlp="red", distribution="organization")
    share(session, admin.principal, indicator("198.51.100.94"), tlp="amber", distribution="organization")
    session.commit()
    assert service.enqueue(session) == 1
    claims = service.claim(session, utcnow())
    assert len(claims) == 1 and "198.51.100.94" in claims[0].body and "198.51.100.93" not in claims[0].body


# --- the page ----------------------------------------------------------------------------------------------------


def test_the_webhooks_page_adds_lists_and_redelivers(client: TestClient, session: Session) -> None:
    a, admin = make_member(session, "analyst"), make_member(session, "admin")
    session.commit()
    log_in(client, admin)
    page = client.get("/webhooks", headers=HTML)
    assert page.status_code == 200 and "Dead letters" in page.text
    refused = client.post("/webhooks", data={"url": "https://93.184.216.34/h", "csrf_token": "0" * 40}, headers=HTML)
    assert refused.status_code == 403
    token = csrf(page.text)
    internal = client.post("/webhooks", data={"url": "http://10.0.0.5/h", "csrf_token": token}, headers=HTML)
    assert internal.status_code == 422 and "private" in internal.text
    added = client.post("/webhooks", data={"url": "https://93.184.216.34/h", "csrf_token": token}, headers=HTML)
    assert added.status_code == 201 and 'id="new-secret"' in added.text
    share(session, a.principal, indicator("198.51.100.95"), tlp="green")
    session.commit()
    service.enqueue(session)
    (claim,) = service.claim(session, utcnow())
    service.settle(session, claim, error="HTTP 500", status=500, max_attempts=1, base=1, cap=1)
    session.commit()
    page = client.get("/webhooks", headers=HTML)
    assert claim.event_id in page.text and "HTTP 500" in page.text
    redeliver = client.post(
        f"/webhooks/deliveries/{claim.delivery_id}/redeliver", data={"csrf_token": token}, follow_redirects=False
    )
    assert redeliver.status_code == 303
    assert service.deliveries(session, admin.principal, status="dead") == []
    vi = client.get("/webhooks", headers=HTML | {"Accept-Language": "vi"})
    assert vi.status_code == 200


def test_another_organizations_or_unknown_webhooks_and_deliveries_are_not_found(
    client: TestClient, session: Session
) -> None:
    owner, other = make_member(session, "admin"), make_member(session, "admin")
    hook = service.create(
        session, owner.principal, WebhookIn(url="https://93.184.216.34/h"), policy=PUBLIC_ONLY
    ).webhook
    session.commit()
    log_in(client, other)
    token = csrf(client.get("/webhooks", headers=HTML).text)
    for path in (f"/webhooks/{hook.id}/enable", f"/webhooks/{hook.id}/delete", "/webhooks/999999/delete",
                 "/webhooks/deliveries/999999/redeliver"):  # fmt: skip
        answer = client.post(path, data={"csrf_token": token}, headers=HTML, follow_redirects=False)
        assert answer.status_code == 404, (path, answer.status_code)
    forged = client.post(f"/webhooks/{hook.id}/delete", data={"csrf_token": "0" * 40}, follow_redirects=False)
    assert forged.status_code == 403
    assert [h.id for h in service.list_webhooks(session, owner.principal)] == [hook.id]


def test_the_live_page_follows_the_stream(client: TestClient, session: Session) -> None:
    member = make_member(session, "viewer")
    session.commit()
    assert client.get("/live", headers=HTML, follow_redirects=False).status_code == 303  # log in first
    log_in(client, member)
    page = client.get("/live", headers=HTML)
    assert page.status_code == 200 and '<script src="/static/live.js" defer></script>' in page.text
    assert "object.created" in page.text  # the labels the script shows
    assert client.get("/static/live.js").status_code == 200
    assert 'href="/webhooks"' in page.text
