"""The outbox and the stream's rules: events in the same transaction, cursors, expansion, visibility, filters."""

from __future__ import annotations

import itertools

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core import events
from herdsec.core.clock import utcnow
from herdsec.core.errors import InvalidInput
from herdsec.identity.visibility import Tlp
from herdsec.intel import service, stream
from herdsec.intel.access import visible_objects
from herdsec.intel.models import StixObject
from herdsec.intel.schemas import SightingIn
from herdsec.intel.stream import WHOLE, Cursor, Filters, Subscription
from tests.factories import make_group, make_member
from tests.intel_factories import indicator, share

_n = itertools.count(10)


def _ip() -> str:
    return f"203.0.113.{next(_n) % 250 + 1}"


def _all_items(session: Session, after: Cursor) -> list[stream.Item]:
    items, _reached = stream.read(session, after, 100_000)
    return items


def test_ingest_appends_one_event_per_batch_in_the_same_transaction(session: Session) -> None:
    a = make_member(session, "analyst")
    start = events.last_id(session)
    share(session, a.principal, indicator(_ip()), indicator(_ip()), tlp="green")
    assert events.last_id(session) == start  # queued, not yet written
    session.commit()
    rows = session.scalars(select(events.Event).where(events.Event.id > start)).all()
    assert [r.kind for r in rows] == ["objects"]
    assert rows[0].last_seq is not None and rows[0].first_seq is not None
    assert rows[0].last_seq - rows[0].first_seq == 1 and rows[0].org_id == a.org.id


def test_a_rolled_back_change_leaves_no_event(session: Session) -> None:
    a = make_member(session, "analyst")
    session.commit()
    start = events.last_id(session)
    share(session, a.principal, indicator(_ip()), tlp="green")
    session.rollback()
    session.commit()
    assert events.last_id(session) == start


def test_event_ids_strictly_increase_and_items_expand_in_order(session: Session) -> None:
    a = make_member(session, "analyst")
    session.commit()
    start = stream.newest_cursor(session)
    for _ in range(3):
        share(session, a.principal, indicator(_ip()), indicator(_ip()), tlp="green")
        session.commit()
    items = _all_items(session, start)
    assert len(items) == 6
    cursors = [i.cursor for i in items]
    assert cursors == sorted(cursors) and len(set(cursors)) == 6
    assert all(i.kind == "object.created" for i in items)
    # Resuming from any item id gives exactly what follows it.
    for n, item in enumerate(items):
        again = _all_items(session, stream.parse_cursor(str(item.cursor)))
        assert [i.cursor for i in again] == cursors[n + 1 :]


def test_versions_and_revocations_are_told_apart(session: Session) -> None:
    a = make_member(session, "analyst")
    first = indicator(_ip())
    share(session, a.principal, first, tlp="green")
    session.commit()
    start = stream.newest_cursor(session)
    share(session, a.principal, {**first, "modified": "2026-11-01T10:00:05.000Z", "name": "v2"}, tlp="green")
    share(session, a.principal, {**first, "modified": "2026-11-01T10:00:09.000Z", "revoked": True}, tlp="green")
    session.commit()
    assert [i.kind for i in _all_items(session, start)] == ["object.version", "object.revoked"]


def test_small_read_limits_page_through_a_batch_without_loss(session: Session) -> None:
    a = make_member(session, "analyst")
    session.commit()
    start = stream.newest_cursor(session)
    share(session, a.principal, *[indicator(_ip()) for _ in range(7)], tlp="green")
    session.commit()
    got: list[stream.Item] = []
    cursor = start
    for _ in range(20):
        items, cursor = stream.read(session, cursor, 2)
        got.extend(items)
    assert len(got) == 7 and len({i.cursor for i in got}) == 7


@pytest.mark.parametrize("garbage", ["abc", "-1", "1.x", "1..2", "١٢", "9" * 60, "1.2.3", "1.²", "²"])
def test_garbage_last_event_ids_are_refused(garbage: str) -> None:
    with pytest.raises(InvalidInput, match="not a stream position"):
        stream.parse_cursor(garbage)


def test_cursor_text_round_trips() -> None:
    assert stream.parse_cursor("12") == Cursor(12, WHOLE)
    assert str(stream.parse_cursor("12.345")) == "12.345"
    assert stream.parse_cursor("0") < stream.parse_cursor("1.1") < stream.parse_cursor("1") < stream.parse_cursor("2.0")


def test_future_ids_are_refused(session: Session) -> None:
    newest = events.last_id(session)
    stream.check_not_future(Cursor(newest), newest)
    with pytest.raises(InvalidInput, match="newer than the newest event"):
        stream.check_not_future(Cursor(newest + 5), newest)


def test_delivery_visibility_equals_the_sql_filter(session: Session) -> None:
    """What the stream admits for each viewer is exactly what visible_objects selects."""
    a, b, c = make_member(session, "admin"), make_member(session, "analyst"), make_member(session, "analyst")
    group = make_group(session, a.principal, [b.org.id])
    a_in_group = identity.org_principal(session, a.org.id, "a")
    b_in_group = identity.org_principal(session, b.org.id, "b")
    session.commit()
    start = stream.newest_cursor(session)
    for tlp, dist in [
        ("clear", "all"),
        ("green", "community"),
        ("amber", "community"),
        ("amber", "organization"),
        ("amber+strict", "community"),
        ("red", "organization"),
        ("red", f"sharing-group:{group}"),
        ("amber", f"sharing-group:{group}"),
    ]:
        share(session, a_in_group, indicator(_ip()), tlp=tlp, distribution=dist)
    share(
        session,
        a.principal,
        indicator(_ip(), object_marking_refs=["marking-definition--00000000-0000-4000-8000-00000000abcd"]),
    )
    session.commit()
    items = _all_items(session, start)
    assert len(items) == 9
    for principal in (a_in_group, b_in_group, c.principal):
        admitted = {i.stix_id for i in items if Subscription(principal).admits(i)}
        sql = set(
            session.scalars(
                select(StixObject.stix_id).where(
                    StixObject.id.in_([i.pk for i in items]), visible_objects(identity.viewer_for(principal))
                )
            )
        )
        assert admitted == sql
    outsider = {i.shared.tlp for i in items if Subscription(c.principal).admits(i)}
    assert outsider <= {Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT}
    assert len([i for i in items if Subscription(c.principal).admits(i)]) == 4


def test_sighting_events_name_the_reporter_only_to_the_creator_and_coordinators(session: Session) -> None:
    creator = make_member(session, "analyst", name="Ngân hàng Gốc")
    reporter = make_member(session, "analyst", name="Công ty Báo")
    other = make_member(session, "analyst")
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    value = _ip()
    share(session, creator.principal, indicator(value), tlp="green")
    session.commit()
    start = stream.newest_cursor(session)
    service.record_sighting(session, reporter.principal, SightingIn(value=value, count=3))
    session.commit()
    (item,) = _all_items(session, start)
    assert item.kind == "sighting" and item.type == "sighting"
    for member, named in ((creator, True), (boss, True), (other, False), (reporter, True)):
        assert Subscription(member.principal).admits(item)
        body = orjson.loads(item.body_for(member.principal))
        assert body["sighting"]["count"] == 3
        assert ("organization" in body["sighting"]) is named
        if named:
            assert body["sighting"]["organization"] == "Công ty Báo"
    assert b"C\xc3\xb4ng ty B\xc3\xa1o" not in item.body_for(other.principal)


def test_sightings_of_private_objects_reach_only_those_who_see_the_object(session: Session) -> None:
    creator, outsider = make_member(session, "analyst"), make_member(session, "analyst")
    value = _ip()
    share(session, creator.principal, indicator(value), tlp="amber", distribution="organization")
    session.commit()
    start = stream.newest_cursor(session)
    service.record_sighting(session, creator.principal, SightingIn(value=value))
    session.commit()
    (item,) = _all_items(session, start)
    assert Subscription(creator.principal).admits(item)
    assert not Subscription(outsider.principal).admits(item)


def test_filters_by_type_tlp_sector_and_score(session: Session) -> None:
    a = make_member(session, "analyst")
    b = make_member(session, "analyst")
    session.commit()
    start = stream.newest_cursor(session)
    fresh = utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    low = indicator(_ip(), confidence=10, valid_from=fresh)
    share(session, a.principal, indicator(_ip(), valid_from=fresh), low, tlp="green")
    share(
        session,
        a.principal,
        {
            "type": "malware",
            "spec_version": "2.1",
            "id": "malware--" + "1" * 8 + "-1111-4111-8111-" + "1" * 12,
            "created": "2026-11-01T10:00:00.000Z",
            "modified": "2026-11-01T10:00:00.000Z",
            "name": "x",
            "is_family": False,
        },
        tlp="clear",
    )
    session.commit()
    items = _all_items(session, start)
    assert len(items) == 3

    def count(filters: Filters) -> int:
        sub = Subscription(b.principal, filters)
        return len([i for i in items if sub.admits(i)])

    assert count(Filters.parse("malware", None, None, None)) == 1
    assert count(Filters.parse("indicator,malware", "green", None, None)) == 2
    assert count(Filters.parse(None, "clear", None, None)) == 1
    assert count(Filters.parse(None, None, None, "no-such-sector")) == 0
    with pytest.raises(InvalidInput):
        Filters.parse(None, "purple", None, None)
    scored = [i for i in items if Subscription(b.principal, Filters(min_score=50)).admits(i)]
    assert len(scored) == 2  # only indicators have a score
    scores = stream.scores(session, b.principal, scored)
    assert sorted(s >= 50 for s in scores.values()) == [False, True]


def test_a_version_event_reveals_no_hidden_earlier_version(session: Session) -> None:
    sharer, reader = make_member(session, "analyst"), make_member(session, "analyst")
    obj_id = "indicator--6f1a3e0c-2b4d-4c8e-9a7f-5d3c2b1a0e9f"
    share(
        session, sharer.principal, indicator("185.220.101.60", tlp=Tlp.RED, obj_id=obj_id), distribution="organization"
    )
    share(session, sharer.principal, indicator("185.220.101.60", tlp=Tlp.CLEAR, obj_id=obj_id, modified=5))
    session.commit()
    subscription = Subscription(reader.principal)
    items, _ = stream.read(session, Cursor(0), 100)
    assert [i.kind for i in items if subscription.admits(i) and i.stix_id == obj_id] == ["object.created"]
    own = Subscription(sharer.principal)
    assert [i.kind for i in items if own.admits(i) and i.stix_id == obj_id] == ["object.created", "object.created"]
