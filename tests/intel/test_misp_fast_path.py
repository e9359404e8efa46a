"""The MISP import's fast path (objects the converter builds skip the per-object STIX check and the pattern parse)
must store exactly what the general path stores, and must refuse what the general checks would refuse."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from benchmarks.mispgen import event as generated_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from herdsec.identity.visibility import Tlp
from herdsec.intel import misp, stix
from herdsec.intel.indicators import NAMESPACE
from herdsec.intel.misp.convert import EventConverter, Item, uuid5
from herdsec.intel.misp.vocab import COMPOSITE, PATTERN_TYPES, SIMPLE, BadValue, indicator_of
from herdsec.intel.prepare import Built, Context, Prepared, Preparer, Refused, stored_time
from herdsec.ioc.pattern import MAX_PATTERN_LENGTH, indexable, parse
from tests.factories import make_group, make_member, principal_of

ORG = "2f9a1c3e-0000-4000-8000-0000000000aa"
PATTERNED = sorted(set(SIMPLE) | set(COMPOSITE))
# Values of every shape: quotes, backslashes, separators, digits, spaces, non-ASCII, control characters.
VALUE = st.one_of(
    st.text(alphabet=st.sampled_from("ab1.:/|\\' -_@Đ\x00\t²٣0"), max_size=30),
    st.text(max_size=40),
    st.from_regex(r"\A[a-z0-9.]{1,20}\|[0-9]{1,6}\Z"),
    st.from_regex(r"\A(AS)?[0-9]{1,12}\Z"),
)


@given(st.sampled_from(PATTERNED), VALUE)
@settings(max_examples=600, deadline=None)
def test_the_pairs_handed_to_the_preparer_are_what_the_parser_finds(misp_type: str, value: str) -> None:
    try:
        made = indicator_of(misp_type, value)
    except BadValue:
        return
    assert made is not None
    pattern, pairs = made
    if len(pattern) <= MAX_PATTERN_LENGTH:
        assert list(pairs) == indexable(parse(pattern))


def _attribute(kind: str, value: str, flags: dict[str, Any]) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "type": kind, "value": value, "timestamp": "1700000123", **flags}


FLAGS = st.fixed_dictionaries(
    {},
    optional={
        "to_ids": st.booleans(),
        "comment": VALUE,
        "category": VALUE,
        "object_relation": VALUE,
        "first_seen": st.sampled_from(["2020-01-02T03:04:05.123456+00:00", "0999-01-01T00:00:00Z", "soon", "", 5]),
        "last_seen": st.sampled_from(["2030-01-02T03:04:05+02:00", "2019-01-01T00:00:00Z", "x"]),
        "Tag": st.lists(st.builds(lambda n: {"name": n}, VALUE), max_size=3),
        "disable_correlation": st.booleans(),
    },
)
KINDS = st.sampled_from([*PATTERNED, *PATTERN_TYPES, "vulnerability", "text", "comment", "passport-number", "x-y"])


@given(st.lists(st.tuples(KINDS, VALUE, FLAGS), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_object_built_for_the_fast_path_passes_the_stix_check(
    attributes: list[tuple[str, str, dict[str, Any]]],
) -> None:
    converter = EventConverter(org_uuid=ORG, resolve_group=lambda _uuid, _name: None)
    header = {"uuid": str(uuid.uuid4()), "info": "fuzz", "timestamp": "1700000000"}
    items: list[Item] = list(converter.convert(header, iter([_attribute(k, v, f) for k, v, f in attributes]), iter([])))
    prepare = Preparer(Context(Tlp.AMBER, frozenset(), f"identity--{ORG}", frozenset([f"identity--{ORG}"])))
    for index, item in enumerate(items):
        # named tuples are built from plain tuples on this path: none is short of a field
        assert len(item) == len(Item._fields) and (item.built is None or len(item.built) == len(Built._fields))
        row = prepare(index, item.obj, item.built)
        assert len(row) == len(Prepared._fields if isinstance(row, Prepared) else Refused._fields)
        if item.built is None:
            continue  # checked by the general path
        assert stix.check(item.obj) is None, (item.obj, stix.check(item.obj))
        if item.built.pairs is not None:
            assert list(item.built.pairs) == indexable(parse(item.obj["pattern"]))
        else:
            assert item.obj["type"] != "indicator" or item.obj["pattern_type"] != "stix"


@given(VALUE, st.lists(VALUE, max_size=3), st.integers(0, 12), st.lists(VALUE, max_size=3))
@settings(max_examples=200, deadline=None)
def test_a_report_checked_on_one_reference_passes_the_whole_check_exactly_when_trusted(
    info: str, tags: list[str], attributes: int, relations: list[str]
) -> None:
    """The report is checked with its first object reference standing for all (each is an id the converter made:
    attributes, MISP objects and their references): it is trusted exactly when the whole report passes the check."""
    converter = EventConverter(org_uuid=ORG, resolve_group=lambda _uuid, _name: None)
    header = {
        "uuid": str(uuid.uuid4()),
        "info": info,
        "timestamp": "1700000000",
        "Tag": [{"name": t} for t in tags],
        "Orgc": {"name": info},
    }
    members = [_attribute("ip-dst", f"198.51.100.{i}", {"to_ids": i % 2 == 0}) for i in range(attributes)]
    inner = _attribute("domain", "inner.example", {"to_ids": True, "object_relation": "domain"})
    target = members[0]["uuid"] if members else inner["uuid"]
    objects = [
        {
            "uuid": str(uuid.uuid4()),
            "name": info or "object",
            "Attribute": [inner],
            "ObjectReference": [{"referenced_uuid": target, "relationship_type": kind} for kind in relations],
        }
    ]
    items = list(converter.convert(header, iter(members), iter(objects)))
    report = items[-1]
    assert set(report.obj["object_refs"]) >= {i.obj["id"] for i in items if i.obj["type"] != "sighting"} - {
        report.obj["id"]
    }
    assert report.obj["type"] == "report"
    assert (report.built is not None) == (stix.check(report.obj) is None), stix.check(report.obj)


def test_a_report_the_check_refuses_is_refused_by_name_and_its_attributes_are_kept(session: Session) -> None:
    a = make_member(session, "analyst")
    doc = generated_event(20)
    doc["Event"]["info"] = "nul\x00 in the title"
    status = misp.import_events(session, a.principal, io.BytesIO(json.dumps(doc).encode()))
    event = status.events[0]
    assert [f.where for f in event.failures] == ["Event"] and event.report_id is None
    assert event.failures[0].reason == "name contains a NUL character"
    assert event.stored_count == event.total_count - 1 > 20  # everything else (attributes, the object's grouping)


def _rich_event(group_name: str) -> dict[str, Any]:
    """The benchmark's mixed event and every other shape the converter maps, good and bad."""
    doc = generated_event(300)
    extra = [
        _attribute("stix2-pattern", "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'x.example']", {}),
        _attribute("stix2-pattern", "[ipv4-addr:value = ", {"to_ids": True}),  # broken: refused
        _attribute("yara", "rule x { condition: true }", {"to_ids": True}),
        _attribute("ip-src", "198.51.100.0/24", {"to_ids": True}),
        _attribute("ip-dst", "2001:db8::1", {"to_ids": True, "Tag": [{"name": "tlp:red"}]}),
        _attribute("AS", "AS64500", {"to_ids": True}),
        _attribute("AS", "64501", {"to_ids": False}),
        _attribute("domain|ip", "evil.example|198.51.100.9", {"to_ids": True}),
        _attribute("hostname|port", "c2.example|8443", {"to_ids": True}),
        _attribute("ip-src|port", "2001:db8::5|53", {"to_ids": False}),
        _attribute("regkey|value", "HKLM\\Software\\Run|evil.exe", {"to_ids": True}),
        _attribute("filename|sha256", f"it's.exe|{'ab' * 32}", {"to_ids": True}),
        _attribute("user-agent", "Mozilla/5.0 'quoted' \\ back", {"to_ids": True}),
        _attribute("url", "http://192.168.1.1/admin", {"to_ids": True}),  # on a warninglist
        _attribute("domain", "x" * (MAX_PATTERN_LENGTH + 5), {"to_ids": True}),  # pattern too long: refused
        _attribute("vulnerability", "CVE-2024-3094", {"to_ids": False}),
        _attribute("text", "free text", {"comment": "Bình luận"}),
        _attribute("unknown-type", "kept", {}),
        _attribute("md5", "d41d8cd98f00b204e9800998ecf8427e", {"to_ids": True, "comment": "nul\x00"}),  # refused
        _attribute(
            "sha1",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            {
                "to_ids": True,
                "first_seen": "2020-01-02T03:04:05.123456+00:00",
                "last_seen": "2031-01-01T00:00:00Z",
                "Sighting": [{"date_sighting": "1700000500", "type": "1", "source": "sensor"}],
                "Tag": [{"name": 'misp-galaxy:mitre-attack-pattern="Phishing - T1566"'}, {"name": "label"}],
            },
        ),
        _attribute(
            "ip-dst",
            "203.0.113.77",
            {"to_ids": True, "distribution": "4", "SharingGroup": {"name": group_name}},
        ),
        _attribute("ip-dst", "203.0.113.78", {"to_ids": True, "distribution": "0"}),
        _attribute("AS", "AS99999999999999999999999", {"to_ids": False}),  # refused (was a crash)
        _attribute("ip-dst|port", "198.51.100.3|²", {"to_ids": True}),  # refused (was a crash)
    ]
    doc["Event"]["Attribute"].extend(extra)
    return doc


def _stored(session: Session, org_id: int) -> dict[str, Any]:
    """Everything an import wrote for the organization, without surrogate keys and wall-clock times."""
    objects = session.execute(
        text(
            "SELECT stix_id, type, spec_version, created, modified, current, revoked, tlp, distribution,"
            " sharing_group_id, name, data FROM stix_objects WHERE creator_org_id = :org ORDER BY stix_id, modified"
        ),
        {"org": org_id},
    ).all()
    observables = session.execute(
        text(
            "SELECT s.stix_id, o.type, o.value_key, o.value, o.problem, o.warninglists FROM observables o"
            " JOIN stix_objects s ON s.id = o.object_id WHERE s.creator_org_id = :org"
            " ORDER BY s.stix_id, o.type, o.value_key"
        ),
        {"org": org_id},
    ).all()
    ids = [row[0] for row in objects]
    tags = session.execute(text("SELECT stix_id, kind, value FROM object_tags ORDER BY stix_id, kind, value")).all()
    sightings = session.execute(
        text("SELECT sighting_stix_id, stix_id, kind, count FROM sightings WHERE org_id = :org ORDER BY 1"),
        {"org": org_id},
    ).all()
    return {
        "objects": [tuple(row) for row in objects],
        "observables": [tuple(row) for row in observables],
        "tags": [tuple(row) for row in tags if row[0] in set(ids)],
        "sightings": [tuple(row) for row in sightings],
    }


def test_the_fast_path_stores_exactly_what_the_general_path_stores(session: Session) -> None:
    a, b = make_member(session, "admin"), make_member(session, "viewer")
    make_group(session, a.principal, [b.org.id], name="Nhóm so sánh")
    actor = principal_of(session, a.user)  # now a member of the group
    body = json.dumps(_rich_event("Nhóm so sánh")).encode()
    outcomes = []
    for trusted in (True, False):
        savepoint = session.begin_nested()
        status = misp.import_events(session, actor, io.BytesIO(body), tlp="green", trust_built=trusted)
        session.flush()
        outcomes.append(
            (
                _stored(session, a.org.id),
                [(f.where, f.uuid, f.reason) for f in status.events[0].failures],
                (status.total_count, status.stored_count, status.failure_count, status.events[0].attribute_count),
            )
        )
        savepoint.rollback()
    fast, general = outcomes
    assert fast[0]["objects"] and fast[0]["observables"] and fast[0]["tags"] and fast[0]["sightings"]
    assert {row[8] for row in fast[0]["objects"]} >= {"community", "sharing-group", "organization"}
    assert any(row[5] for row in fast[0]["observables"]), "a value on a warninglist"
    assert fast == general
    reasons = [reason for _where, _uuid, reason in fast[1]]
    assert len(reasons) == 5
    assert any("is not an autonomous system number" in r for r in reasons)
    assert any("is not a number from 0 to 65535" in r for r in reasons)
    assert any("invalid pattern" in r and "longer than" in r for r in reasons)
    assert any("comment contains a NUL character" in r for r in reasons)


@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["sqlite", "postgresql"]),
)
@settings(max_examples=400, deadline=None)
def test_timestamps_read_by_arithmetic_are_what_the_parser_reads(moment: datetime, dialect: str) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    preparer = Preparer(Context(Tlp.AMBER, frozenset(), f"identity--{ORG}", frozenset(), dialect))
    parsed = stix.parse_timestamp(text)
    assert parsed is not None
    assert preparer._millisecond_time(text) == (
        (parsed - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
        stored_time(dialect, parsed),
    )


@pytest.mark.parametrize(
    "text",
    ["2023-02-29T00:00:00.000Z", "2023-01-01T24:00:00.000Z", "2023-01-01T00:60:00.000Z", "2023-01-01T00:00:60.000Z"],
)
def test_impossible_timestamps_are_left_to_the_parser(text: str) -> None:
    preparer = Preparer(Context(Tlp.AMBER, frozenset(), f"identity--{ORG}", frozenset()))
    assert preparer._millisecond_time(text) is None and preparer._time(text) is None


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_ids_are_the_uuid5_of_the_organization_and_the_element(element_uuid: str) -> None:
    converter = EventConverter(org_uuid=ORG, resolve_group=lambda _uuid, _name: None)
    expected = uuid.uuid5(NAMESPACE, f"misp|{ORG}|{element_uuid.lower()}")
    assert converter._id("indicator", element_uuid) == f"indicator--{expected}"
    assert uuid5(element_uuid) == str(uuid.uuid5(NAMESPACE, element_uuid))


def test_numbers_too_large_to_store_are_refused_by_name() -> None:
    """The streaming reader (ijson) gives integers of any size; orjson cannot store those beyond 64 bits."""
    converter = EventConverter(org_uuid=ORG, resolve_group=lambda _uuid, _name: None)
    header = {"uuid": str(uuid.uuid4()), "info": "big", "timestamp": "1700000000"}
    big = _attribute("domain", "big.example", {"disable_correlation": 10**30})
    items = list(converter.convert(header, iter([big]), iter([])))
    assert [item.obj["type"] for item in items] == ["report"]
    assert [(f.where, f.uuid, f.reason) for f in converter.failures] == [
        ("Attribute[0]", big["uuid"], "the attribute's disable_correlation is a number too large to store")
    ]
