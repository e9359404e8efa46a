"""Federation peers and runs: bad URLs refused at registration, a remote that times out or sends garbage is
reported and retried later with nothing stored half, what may be pushed, credentials sealed, permissions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.db import Database
from herdsec.core.errors import ConfigError, Conflict, InvalidInput, PermissionDenied
from herdsec.core.outbound import OutboundRefused
from herdsec.core.settings import Settings, load_settings
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel import federation, misp, service
from herdsec.intel.federation.credentials import seal, unseal
from herdsec.intel.federation.logic import backoff_seconds, may_push, parse_duration
from herdsec.intel.federation.models import FederationPeer
from herdsec.intel.federation.sync import outgoing
from herdsec.intel.models import StixObject
from tests.factories import OPERATOR, make_member, make_org
from tests.federation.servers import FakeTaxii, envelope, fake_taxii, garbage, hang, redirect_to
from tests.intel.test_misp import attribute, event, load
from tests.intel_factories import indicator, share

LOCAL = load_settings(mode="dev", outbound_allow="loopback", outbound_timeout=2)


def _add(session: Session, url: str, settings: Settings = LOCAL, **fields: object) -> federation.PeerOut:
    data = {"name": "peer", "url": url, "collection_id": FakeTaxii.COLLECTION, "direction": "pull",
            "interval_seconds": 60} | fields  # fmt: skip
    return federation.add_peer(session, OPERATOR, federation.PeerIn(**data), settings)  # type: ignore[arg-type]


def _peer_row(session: Session, name: str = "peer") -> FederationPeer:
    session.expire_all()
    return session.scalars(select(FederationPeer).where(FederationPeer.name == name)).one()


def _stored(session: Session, ids: list[str]) -> int:
    return int(session.scalar(select(func.count()).select_from(StixObject).where(StixObject.stix_id.in_(ids))) or 0)


# --- registration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://127.0.0.1:9/taxii2/", "loopback"),
        ("http://169.254.169.254/taxii2/", "link-local"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.org/", "only http and https"),
        ("http://[::ffff:10.0.0.1]/taxii2/", "private"),
    ],
)
def test_bad_peer_urls_are_refused_at_registration(session: Session, url: str, match: str) -> None:
    with pytest.raises(OutboundRefused, match=match):
        _add(session, url, load_settings(mode="dev"))
    assert session.scalar(select(func.count()).select_from(FederationPeer)) == 0


def test_the_metadata_address_is_refused_even_with_loopback_allowed(session: Session) -> None:
    with pytest.raises(OutboundRefused, match="link-local"):
        _add(session, "http://169.254.169.254/latest/", LOCAL)


def test_a_peer_gets_its_own_hub_organization_and_never_a_member(session: Session) -> None:
    peer = _add(session, "http://127.0.0.1:9/taxii2/")
    assert peer.org_name == "peer (federation)"
    member = make_org(session, kind="bank")
    with pytest.raises(InvalidInput, match="not of kind hub"):
        _add(session, "http://127.0.0.1:9/taxii2/", name="other", as_org=member.name)
    hub = make_org(session, kind="hub")
    assert _add(session, "http://127.0.0.1:9/taxii2/", name="other", as_org=str(hub.id)).org_id == hub.id
    with pytest.raises(Conflict, match="exists"):
        _add(session, "http://127.0.0.1:9/taxii2/")


def test_only_coordinators_manage_federation(session: Session) -> None:
    member = make_member(session, "admin")
    with pytest.raises(PermissionDenied):
        federation.add_peer(
            session, member.principal, federation.PeerIn(name="x", url="http://127.0.0.1:9/", collection_id="c"), LOCAL
        )
    with pytest.raises(PermissionDenied):
        federation.list_peers(session, member.principal)


def test_options_are_checked(session: Session) -> None:
    with pytest.raises(InvalidInput, match="needs --collection"):
        _add(session, "http://127.0.0.1:9/", collection_id=None)
    with pytest.raises(InvalidInput, match="only be pulled"):
        _add(session, "http://127.0.0.1:9/", kind="misp-feed", direction="both")
    with pytest.raises(InvalidInput, match="either an API key"):
        _add(session, "http://127.0.0.1:9/", api_key="k", username="u", password="p")
    with pytest.raises(InvalidInput, match="peer names"):
        _add(session, "http://127.0.0.1:9/", name="bad name/")
    with pytest.raises(InvalidInput, match="unknown kind or direction"):
        _add(session, "http://127.0.0.1:9/", direction="sideways")


def test_durations_and_backoff() -> None:
    assert [parse_duration(t) for t in ("30s", "5m", "1h", "2d", "90")] == [30, 300, 3600, 172800, 90]
    for bad in ("", "5x", "-1m", "1.5h", "3s", "30d"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)
    assert backoff_seconds(60, 0) == 60
    assert [backoff_seconds(60, n) for n in (1, 2, 3)] == [120, 240, 480]
    assert backoff_seconds(60, 50) == 24 * 3600
    assert backoff_seconds(3 * 86400, 5) == 3 * 86400


def test_what_may_be_pushed() -> None:
    allowed = {(t, d) for t in Tlp for d in federation.logic.Distribution if may_push(t, d)}
    assert allowed == {(t, d) for t in (Tlp.CLEAR, Tlp.GREEN) for d in ("connected", "all")}


def test_credentials_are_sealed_and_bound_to_the_peer(session: Session) -> None:
    _add(session, "http://127.0.0.1:9/", username="u", password="very-secret-password")
    row = _peer_row(session)
    assert row.auth_kind == "basic" and row.secret and "very-secret" not in row.secret
    assert unseal(LOCAL.secret_key, row.secret, "peer") == "very-secret-password"
    with pytest.raises(ConfigError, match="cannot be read"):
        unseal("another-secret-key-of-enough-length-000", row.secret, "peer")
    with pytest.raises(ConfigError):
        unseal(LOCAL.secret_key, row.secret, "another-peer")
    assert seal(LOCAL.secret_key, "x", "p") != seal(LOCAL.secret_key, "x", "p")  # fresh nonce


def test_a_changed_secret_key_is_reported_by_the_run(session: Session, db: Database) -> None:
    with fake_taxii() as fake:
        fake.pages = [envelope([])]
        _add(session, fake.url, api_key="remote-key")
        session.commit()
        other = load_settings(mode="dev", outbound_allow="loopback", secret_key="x" * 40)
        run = federation.run_peer(db, OPERATOR, "peer", other)
    assert run.error and "cannot be read" in run.error


# --- runs against a scripted remote ------------------------------------------------------------------------------


def test_garbage_is_reported_nothing_is_stored_and_the_peer_is_retried_later(session: Session, db: Database) -> None:
    good = [indicator(tlp=Tlp.GREEN) for _ in range(2)]
    with fake_taxii() as fake:
        fake.pages = [garbage()]
        _add(session, fake.url)
        session.commit()
        before = utcnow()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
        assert run.error and "not JSON" in run.error and run.pulled == 0
        peer = _peer_row(session)
        assert peer.failures == 1 and peer.last_error == run.error
        assert peer.next_attempt_at is not None and peer.next_attempt_at >= before + timedelta(seconds=120)
        assert peer.pull_cursor is None

        fake.pages = [garbage(b'{"objects": "not a list"}')]
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
        assert run.error and "not a list of JSON objects" in run.error
        assert _peer_row(session).failures == 2
        assert _peer_row(session).next_attempt_at >= utcnow() + timedelta(seconds=230)  # type: ignore[operator]

        fake.calls, fake.pages = 0, [envelope(good)]
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
        assert run.error is None and run.pulled == 2
        peer = _peer_row(session)
        assert peer.failures == 0 and peer.last_error is None
        assert peer.pull_cursor == "2026-11-20T00:00:00.000000Z"
    assert _stored(session, [o["id"] for o in good]) == 2


def test_a_garbage_page_after_a_good_one_stores_only_the_good_page(session: Session, db: Database) -> None:
    first, second = [indicator(tlp=Tlp.GREEN)], [indicator(tlp=Tlp.GREEN)]
    with fake_taxii() as fake:
        fake.pages = [
            envelope(first, more=True, next_token="n1", added_last="2026-11-10T00:00:00.000000Z"),
            garbage(b'{"objects": [{"type": "indicator"}], "more": false}  trailing'),
        ]
        _add(session, fake.url)
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
    assert run.error and run.pulled == 1
    assert _peer_row(session).pull_cursor == "2026-11-10T00:00:00.000000Z"  # resumes after the stored page
    assert _stored(session, [o["id"] for o in first]) == 1
    assert _stored(session, [o["id"] for o in second]) == 0


def test_a_bad_object_in_a_good_page_is_refused_alone(session: Session, db: Database) -> None:
    objs = [indicator(tlp=Tlp.GREEN), indicator(tlp=Tlp.GREEN)]
    bad_bundle = [*objs, {"type": "indicator", "id": "indicator--x", "spec_version": "2.0"}]
    with fake_taxii() as fake:
        fake.pages = [envelope(bad_bundle)]
        _add(session, fake.url)
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
    assert run.refused >= 1 and run.pulled == 2  # a bad object is refused alone, the page is a valid envelope
    assert _stored(session, [o["id"] for o in objs]) == 2


def test_objects_without_a_usable_id_are_refused_alone(session: Session, db: Database) -> None:
    good = indicator(tlp=Tlp.GREEN)
    odd = [{"type": "indicator"}, {"type": "indicator", "id": ["indicator--x"]}, {"type": "indicator", "id": 7}]
    with fake_taxii() as fake:
        fake.pages = [envelope([*odd, good])]
        _add(session, fake.url)
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
    assert run.error is None and run.pulled == 1 and run.refused == 3
    assert _stored(session, [good["id"]]) == 1


def test_a_cursor_header_that_is_not_a_timestamp_stores_nothing(session: Session, db: Database) -> None:
    objs = [indicator(tlp=Tlp.GREEN)]
    with fake_taxii() as fake:
        fake.pages = [envelope(objs, added_last="'; DROP TABLE x; --")]
        _add(session, fake.url)
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
    assert run.error and "not a timestamp" in run.error
    assert _stored(session, [o["id"] for o in objs]) == 0


def test_a_page_nested_absurdly_deep_stores_nothing(session: Session, db: Database) -> None:
    nested: dict[str, object] = {}
    inner = nested
    for _ in range(400):
        inner["x"] = {}
        inner = inner["x"]  # type: ignore[assignment]
    objs = [indicator(tlp=Tlp.GREEN), indicator(tlp=Tlp.GREEN, x_deep=nested)]
    with fake_taxii() as fake:
        fake.pages = [envelope(objs)]
        _add(session, fake.url)
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
    assert run.error and "cannot store" in run.error and run.pulled == 0
    assert _stored(session, [o["id"] for o in objs]) == 0
    assert _peer_row(session).pull_cursor is None


def test_a_remote_that_hangs_is_reported_and_backed_off(session: Session, db: Database) -> None:
    with fake_taxii() as fake:
        fake.pages = [hang(4.0)]
        _add(session, fake.url)
        session.commit()
        slow = load_settings(mode="dev", outbound_allow="loopback", outbound_timeout=1)
        run = federation.run_peer(db, OPERATOR, "peer", slow)
    assert run.error and "no answer within 1 seconds" in run.error
    peer = _peer_row(session)
    assert peer.failures == 1 and peer.next_attempt_at is not None
    assert peer.next_attempt_at > utcnow() + timedelta(seconds=60)
    assert federation.run_due(db, OPERATOR, slow) == []  # not due yet: backed off


def test_a_peer_that_later_redirects_to_the_metadata_address_is_refused(session: Session, db: Database) -> None:
    with fake_taxii() as fake:
        _add(session, fake.url)
        session.commit()
        fake.server.routes["/taxii2/"] = redirect_to("http://169.254.169.254/latest/meta-data/")
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
        assert run.error and "169.254.169.254" in run.error and "link-local" in run.error
        fake.server.routes["/taxii2/"] = redirect_to("file:///etc/passwd")
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
        assert run.error and "only http and https" in run.error
        assert len(fake.server.requests) == 2


def test_loopback_is_refused_at_run_time_without_the_allowance(session: Session, db: Database) -> None:
    with fake_taxii() as fake:
        _add(session, fake.url)
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", load_settings(mode="dev"))
        assert run.error and "loopback" in run.error
        assert fake.server.requests == []


def test_pushes_send_only_what_may_leave_with_its_marking(session: Session, db: Database) -> None:
    member = make_member(session, "analyst")
    ok = indicator(tlp=Tlp.GREEN)
    share(session, member.principal, ok, distribution="connected")
    unmarked = indicator()
    share(session, member.principal, unmarked, tlp="clear", distribution="all")
    for tlp, distribution in (
        ("amber", "connected"),
        ("red", "all"),
        ("green", "community"),
        ("clear", "organization"),
    ):
        share(session, member.principal, indicator(), tlp=tlp, distribution=distribution)
    with fake_taxii() as fake:
        _add(session, fake.url, direction="push")
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
        assert run.error is None and run.pushed == 1  # the fake reports one success per envelope
        sent = [o for envelope_ in fake.posted for o in envelope_["objects"]]
        assert {o["id"] for o in sent} == {ok["id"], unmarked["id"]}
        assert next(o for o in sent if o["id"] == unmarked["id"])["object_marking_refs"] == [TLP2_MARKINGS[Tlp.CLEAR]]
        cursor = _peer_row(session).push_cursor
        assert cursor > 0
        again = federation.run_peer(db, OPERATOR, "peer", LOCAL)
        assert again.error is None and len(fake.posted) == 1  # nothing new: the cursor resumed


def test_outgoing_adds_the_stored_tlp_only_when_missing() -> None:
    stored = json.dumps({"type": "indicator", "object_marking_refs": [TLP2_MARKINGS[Tlp.GREEN]]})
    marked = outgoing(int(Tlp.GREEN), stored)
    assert marked["object_marking_refs"] == [TLP2_MARKINGS[Tlp.GREEN]]
    assert "object_marking_refs" not in outgoing(0, '{"type":"marking-definition"}')


def test_a_misp_feed_peer_pulls_the_feed_over_http_manifest_first_and_incrementally(
    session: Session, db: Database, served: tuple[Path, str, list[str]]
) -> None:
    root, base, requested = served
    publisher = make_member(session, "analyst")
    load(
        session,
        publisher.principal,
        event(attribute("domain", "fed-feed.example"), tags=("tlp:clear",), distribution="3"),
    )
    misp.write_feed(session, publisher.principal, root)
    federation.add_peer(
        session,
        OPERATOR,
        federation.PeerIn(name="circl", kind="misp-feed", url=base + "/", direction="pull"),
        LOCAL,
    )
    session.commit()
    run = federation.run_peer(db, OPERATOR, "circl", LOCAL)
    assert run.error is None and run.pulled > 0
    assert requested[0] == "/manifest.json"
    reader = make_member(session, "viewer")
    creators = {m.creator for m in service.lookup(session, reader.principal, "fed-feed.example").matches}
    assert creators == {publisher.org.name, "circl (federation)"}
    requested.clear()
    again = federation.run_peer(db, OPERATOR, "circl", LOCAL)
    assert again.error is None and requested == ["/manifest.json"]  # nothing changed: only the manifest


def test_a_misp_feed_peer_that_serves_garbage_is_reported_and_retried(
    session: Session, db: Database, served: tuple[Path, str, list[str]]
) -> None:
    root, base, _requested = served
    (root / "manifest.json").write_bytes(b'{"not": "a manifest"')
    federation.add_peer(
        session, OPERATOR, federation.PeerIn(name="bad", kind="misp-feed", url=base, direction="pull"), LOCAL
    )
    session.commit()
    run = federation.run_peer(db, OPERATOR, "bad", LOCAL)
    assert run.error and run.pulled == 0
    assert federation.get_peer(session, OPERATOR, "bad").failures == 1


def test_due_peers_and_remove(session: Session, db: Database) -> None:
    _add(session, "http://127.0.0.1:9/")
    session.commit()
    assert federation.seconds_until_due(db) == 0.0
    later = datetime.now(UTC) + timedelta(hours=1)
    _peer_row(session).next_attempt_at = later
    session.commit()
    wait = federation.seconds_until_due(db)
    assert wait is not None and 3500 < wait <= 3600
    federation.remove_peer(session, OPERATOR, "peer")
    assert federation.list_peers(session, OPERATOR) == []
    assert federation.seconds_until_due(db) is None


def test_replace_keeps_cursors_and_stored_credentials(session: Session) -> None:
    _add(session, "http://127.0.0.1:9/", username="u", password="first-password")
    row = _peer_row(session)
    row.pull_cursor, row.push_cursor = "2026-11-01T00:00:00Z", 42
    session.flush()
    sealed = row.secret
    federation.add_peer(
        session,
        OPERATOR,
        federation.PeerIn(name="peer", url="http://127.0.0.1:9/taxii2/", collection_id="c", direction="both"),
        LOCAL,
        replace=True,
    )
    row = _peer_row(session)
    assert (row.direction, row.pull_cursor, row.push_cursor) == ("both", "2026-11-01T00:00:00Z", 42)
    assert row.secret == sealed and row.auth_kind == "basic" and row.username == "u"


def test_a_pending_push_status_is_polled_until_complete(session: Session, db: Database) -> None:
    member = make_member(session, "analyst")
    objs = [indicator(tlp=Tlp.GREEN) for _ in range(3)]
    share(session, member.principal, *objs, distribution="all")
    with fake_taxii() as fake:
        fake.pending_first = True
        _add(session, fake.url, direction="push")
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
        assert run.error is None and run.pushed == 3
        assert any(path == "/api1/status/s1/" for _method, path, _headers in fake.server.requests)


def test_a_remote_cannot_publish_as_or_over_a_member(session: Session, db: Database) -> None:
    member = make_member(session, "analyst")
    theirs = indicator(tlp=Tlp.GREEN)
    share(session, member.principal, theirs, distribution="connected")
    as_member = {
        "type": "identity", "spec_version": "2.1", "id": f"identity--{member.org.uuid}", "name": "Fake",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-02T00:00:00.000Z",
    }  # fmt: skip
    by_member = indicator(tlp=Tlp.GREEN, created_by_ref=f"identity--{member.org.uuid}")
    over_member = {**theirs, "modified": "2026-11-09T00:00:00.000Z", "revoked": True}
    with fake_taxii() as fake:
        fake.pages = [envelope([as_member, by_member, over_member])]
        _add(session, fake.url)
        session.commit()
        run = federation.run_peer(db, OPERATOR, "peer", LOCAL)
    assert run.error is None and run.pulled == 0 and run.refused == 2 and run.skipped == 1
    session.expire_all()
    versions = session.execute(select(StixObject.creator_org_id, StixObject.revoked).where(
        StixObject.stix_id == theirs["id"])).all()  # fmt: skip
    assert versions == [(member.org.id, False)]
    assert _stored(session, [as_member["id"], by_member["id"]]) == 0
