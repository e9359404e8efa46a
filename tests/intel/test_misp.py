"""MISP event import and export: the mapping to STIX, visibility, round trips through PyMISP, bad input."""

from __future__ import annotations

import io
import json
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from benchmarks.mispgen import event as generated_event
from benchmarks.mispgen import write_event
from pymisp import MISPEvent
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herdsec.core.errors import InvalidInput, NotFound
from herdsec.identity.visibility import Tlp
from herdsec.intel import misp, service
from herdsec.intel.misp.convert import EventConverter
from herdsec.intel.misp.reader import read_events
from herdsec.intel.models import Sighting, StixObject
from herdsec.intel.search import Filters, search
from tests.conftest import SHARED
from tests.factories import make_group, make_member, principal_of
from tests.intel_factories import share

FIXTURES = SHARED / "data" / "misp-events" / "pymisp-tests"
needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="the PyMISP fixture events (../shared/data/misp-events) are not present"
)
_n = iter(range(1, 1_000_000))


def _uuid() -> str:
    return str(uuid.uuid4())


def attribute(kind: str, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "uuid": _uuid(),
        "type": kind,
        "value": value,
        "category": "Network activity",
        "to_ids": True,
        "distribution": "5",
        "timestamp": str(1_700_000_000 + next(_n)),
        **extra,
    }


def event(*attributes: dict[str, Any], tags: tuple[str, ...] = ("tlp:green",), **extra: Any) -> dict[str, Any]:
    return {
        "Event": {
            "uuid": _uuid(),
            "info": "Chiến dịch lừa đảo ngân hàng",
            "date": "2026-11-20",
            "timestamp": "1700000000",
            "distribution": "1",
            "threat_level_id": "2",
            "analysis": "1",
            "Orgc": {"name": "CERT Hồng Hà", "uuid": "11111111-1111-4111-8111-111111111111"},
            "Attribute": list(attributes),
            "Tag": [{"name": t} for t in tags],
            **extra,
        }
    }


def load(session: Session, actor: Any, doc: dict[str, Any] | bytes, **options: Any) -> misp.MispImportStatus:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return misp.import_events(session, actor, io.BytesIO(body), **options)


def _stored(session: Session, stix_id: str) -> StixObject:
    row = session.scalar(select(StixObject).where(StixObject.stix_id == stix_id, StixObject.current.is_(True)))
    assert row is not None, stix_id
    return row


def _objects_of(session: Session, report_id: str) -> list[dict[str, Any]]:
    report = orjson.loads(_stored(session, report_id).data)
    rows = session.scalars(select(StixObject.data).where(StixObject.stix_id.in_(report["object_refs"])))
    return [orjson.loads(r) for r in rows]


def test_an_event_becomes_a_report_with_indicators_observables_and_notes(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    doc = event(
        attribute("ip-dst", "203.0.113.10", Tag=[{"name": "kill-chain:Command and Control"}]),
        attribute("ip-dst|port", "198.51.100.7|8443"),
        attribute("domain|ip", "xn--ngnhng-7ua.example|192.0.2.44"),
        attribute("filename|sha256", "hoadon.exe|" + "a" * 64),
        attribute("url", "hxxp://evil.example/login", to_ids=False),
        attribute("text", "Mã độc gửi qua email giả mạo", to_ids=False),
        attribute("vulnerability", "CVE-2026-12345", to_ids=False),
    )
    status = load(session, a.principal, doc)
    result = status.events[0]
    assert (result.failure_count, result.attribute_count, result.stored_count) == (0, 7, 8), result.failures
    types = sorted(o["type"] for o in _objects_of(session, result.report_id or ""))
    assert types == ["indicator", "indicator", "indicator", "indicator", "note", "url", "vulnerability"]
    composite = next(o for o in _objects_of(session, result.report_id or "") if o["x_misp"]["type"] == "ip-dst|port")
    assert "network-traffic:dst_port = 8443" in composite["pattern"]
    for value in ("198.51.100.7", "192.0.2.44", "203.0.113.10", "a" * 64, "CVE-2026-12345"):
        assert service.lookup(session, b.principal, value).matches, value
    again = load(session, a.principal, doc)
    assert (again.stored_count, again.failure_count, again.success_count) == (0, 0, 8)  # idempotent


def test_tlp_tags_become_markings_and_galaxies_technique_references(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    galaxy = [
        {
            "uuid": _uuid(),
            "name": "Attack Pattern",
            "type": "mitre-attack-pattern",
            "GalaxyCluster": [
                {
                    "uuid": _uuid(),
                    "type": "mitre-attack-pattern",
                    "value": "Phishing - T1566",
                    "tag_name": 'misp-galaxy:mitre-attack-pattern="Phishing - T1566"',
                    "meta": {"external_id": ["T1566"]},
                }
            ],
        }
    ]
    doc = event(
        attribute("domain", "lừa-đảo.example", Tag=[{"name": "tlp:red"}]),
        attribute("sha1", "b" * 40, Tag=[{"name": 'misp-galaxy:mitre-attack-pattern="Malicious File - T1204.002"'}]),
        tags=("tlp:amber", 'circl:incident-classification="phishing"'),
        Galaxy=galaxy,
    )
    result = load(session, a.principal, doc).events[0]
    report = _stored(session, result.report_id or "")
    assert Tlp(report.tlp) is Tlp.AMBER
    assert orjson.loads(report.data)["labels"] == ['circl:incident-classification="phishing"']
    levels = {o["x_misp"]["type"]: o["object_marking_refs"] for o in _objects_of(session, result.report_id or "")}
    assert levels["domain"] == ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]  # RED
    assert levels["sha1"] == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]  # AMBER, inherited
    found = search(session, b.principal, Filters(technique="T1566")).items
    assert [i.id for i in found] == [result.report_id]
    assert [i.type for i in search(session, b.principal, Filters(technique="T1204.002")).items] == ["indicator"]
    assert not service.lookup(session, b.principal, "lừa-đảo.example").matches  # RED: not for the community


def test_distribution_levels_and_sharing_groups(session: Session) -> None:
    a, b, outsider = make_member(session, "admin"), make_member(session, "viewer"), make_member(session, "viewer")
    make_group(session, a.principal, [b.org.id], name="Nhóm Ngân hàng")
    actor, reader = principal_of(session, a.user), principal_of(session, b.user)
    group_event = event(
        attribute("ip-dst", "192.0.2.201"),
        attribute("ip-dst", "192.0.2.202", distribution="0"),
        distribution="4",
        SharingGroup={"uuid": _uuid(), "name": "nhóm ngân hàng"},  # matched by name (case-insensitive)
    )
    unknown_group = event(attribute("ip-dst", "192.0.2.203"), distribution="4", SharingGroup={"name": "Không có"})
    everyone = event(attribute("ip-dst", "192.0.2.204", distribution="1"), distribution="3")
    private = event(attribute("ip-dst", "192.0.2.205"), distribution="0")
    results = [load(session, actor, d).events[0] for d in (group_event, unknown_group, everyone, private)]
    assert "not a hub sharing group" in results[1].notices[0].reason
    dist = {
        o["x_misp"]["value"]: _stored(session, o["id"]).distribution
        for r in results
        for o in _objects_of(session, r.report_id or "")
    }
    assert dist == {
        "192.0.2.201": "sharing-group",
        "192.0.2.202": "organization",
        "192.0.2.203": "organization",
        "192.0.2.204": "community",
        "192.0.2.205": "organization",
    }
    assert service.lookup(session, reader, "192.0.2.201").matches
    assert not service.lookup(session, outsider.principal, "192.0.2.201").matches
    assert service.lookup(session, outsider.principal, "192.0.2.204").matches
    assert not service.lookup(session, reader, "192.0.2.205").matches
    capped = load(session, actor, event(attribute("ip-dst", "192.0.2.206"), distribution="3"), distribution="0")
    assert _stored(session, capped.events[0].report_id or "").distribution == "organization"


def test_objects_references_and_sightings(session: Session) -> None:
    a = make_member(session, "analyst")
    file_obj, domain_obj = _uuid(), _uuid()
    seen = attribute(
        "ip-dst",
        "203.0.113.77",
        Sighting=[
            {"type": "0", "date_sighting": "1700000100", "uuid": _uuid(), "source": "ids"},
            {"type": "1", "date_sighting": "1700000200", "uuid": _uuid()},
        ],
    )
    doc = event(
        seen,
        Object=[
            {
                "uuid": file_obj,
                "name": "file",
                "meta-category": "file",
                "distribution": "5",
                "timestamp": "1700000000",
                "Attribute": [
                    attribute("filename", "hopdong.docm", object_relation="filename"),
                    attribute("md5", "c" * 32, object_relation="md5"),
                ],
                "ObjectReference": [
                    {"uuid": _uuid(), "referenced_uuid": domain_obj, "relationship_type": "communicates-with"},
                    {"uuid": _uuid(), "referenced_uuid": _uuid(), "relationship_type": "drops"},
                ],
            },
            {
                "uuid": domain_obj,
                "name": "domain-ip",
                "meta-category": "network",
                "Attribute": [attribute("domain", "c2.example", object_relation="domain")],
            },
        ],
    )
    result = load(session, a.principal, doc).events[0]
    assert [(f.where, f.reason[:20]) for f in result.failures] == [
        ("Object[0].ObjectReference[1]", "the referenced uuid ")
    ]
    objects = _objects_of(session, result.report_id or "")
    groupings = [o for o in objects if o["type"] == "grouping"]
    assert sorted(g["name"] for g in groupings) == ["domain-ip", "file"]
    relationship = next(o for o in objects if o["type"] == "relationship")
    assert relationship["relationship_type"] == "communicates-with"
    assert {relationship["source_ref"], relationship["target_ref"]} == {g["id"] for g in groupings}
    kinds = session.execute(select(Sighting.kind, Sighting.count).order_by(Sighting.first_seen)).all()
    assert [tuple(k) for k in kinds] == [("sighting", 1), ("false-positive", 1)]


def test_unknown_attribute_types_are_kept_as_text_and_reported(session: Session) -> None:
    a = make_member(session, "analyst")
    strange = attribute("x-quantum-fingerprint", "qf:1234")
    result = load(session, a.principal, event(strange, attribute("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"))).events[
        0
    ]
    assert result.failure_count == 0
    assert [(n.where, n.uuid) for n in result.notices] == [("Attribute[0]", strange["uuid"])]
    assert "unknown attribute type 'x-quantum-fingerprint'" in result.notices[0].reason
    notes = [o for o in _objects_of(session, result.report_id or "") if o["type"] == "note"]
    assert sorted(n["content"] for n in notes) == ["1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "qf:1234"]
    exported = misp.export_event(session, a.principal, result.uuid or "")
    loaded = MISPEvent()
    loaded.load(json.dumps(exported))  # PyMISP refuses unknown types: exported as text, the type in the comment
    by_value = {x.value: x for x in loaded.attributes}
    assert by_value["qf:1234"].type == "text" and "x-quantum-fingerprint" in by_value["qf:1234"].comment
    assert by_value["1BoatSLRHtKNngkdXEeobR76b53LETtpyT"].type == "btc"


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("ip-dst|port", "203.0.113.5", "2 non-empty parts"),
        ("ip-dst|port", "203.0.113.5|http", "is not a number"),
        ("ip-src|port", "203.0.113.5|70000", "is not a number"),
        ("filename|md5", "|" + "d" * 32, "2 non-empty parts"),
        ("domain|ip", "a.example|192.0.2.1|extra", "2 non-empty parts"),
        ("AS", "ASxyz", "autonomous system"),
    ],
)
def test_broken_composite_values_are_refused_with_where_and_uuid(
    session: Session, kind: str, value: str, reason: str
) -> None:
    a = make_member(session, "analyst")
    bad = attribute(kind, value)
    result = load(session, a.principal, event(attribute("ip-dst", "192.0.2.99"), bad)).events[0]
    assert [(f.where, f.uuid) for f in result.failures] == [("Attribute[1]", bad["uuid"])]
    assert reason in result.failures[0].reason
    assert result.success_count == 2  # the good attribute and the report


def test_malformed_documents_store_nothing(session: Session) -> None:
    a = make_member(session, "analyst")
    before = session.scalar(select(func.count()).select_from(StixObject))
    with pytest.raises(InvalidInput, match="malformed JSON"):
        load(session, a.principal, b'{"Event": {"uuid": "x", "Attribute": [{"type": }]}}')
    with pytest.raises(InvalidInput, match="not MISP event JSON"):
        load(session, a.principal, {"type": "bundle", "objects": []})
    bad_uuid = event(attribute("ip-dst", "192.0.2.1"))
    bad_uuid["Event"]["uuid"] = "not-a-uuid"
    assert "is not a UUID" in load(session, a.principal, bad_uuid).events[0].failures[0].reason
    assert session.scalar(select(func.count()).select_from(StixObject)) == before


def test_a_large_event_is_streamed_in_bounded_memory(session: Session, tmp_path: Path) -> None:
    """Large events go through the streaming reader (the benchmark imports 200,000 attributes and reports the peak
    RSS): reading and converting 10,000 attributes allocates a fraction of what loading the document takes, and
    the whole import through the streaming path stores everything."""
    path = tmp_path / "large.json"
    write_event(path, 10_000, seed=7)
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            (document,) = list(read_events(stream, stream_over=1024))
            converter = EventConverter(org_uuid=str(uuid.uuid4()), resolve_group=lambda _u, _n: None)
            count = sum(1 for _ in converter.convert(document.header, document.attributes, document.objects))
        _current, streamed = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    tracemalloc.start()
    try:
        loaded = orjson.loads(path.read_bytes())
        _current, whole = tracemalloc.get_traced_memory()
        del loaded
    finally:
        tracemalloc.stop()
    assert count == 10_001 and converter.attribute_count == 10_000
    assert document.header["info"].startswith("Generated event")  # event fields written after the attributes
    assert streamed < whole / 3, (streamed, whole)
    small = tmp_path / "small.json"
    write_event(small, 3_000, seed=8)
    a = make_member(session, "analyst")
    with small.open("rb") as stream:
        status = misp.import_events(session, a.principal, stream, stream_over=1024)
    assert (status.events[0].attribute_count, status.stored_count, status.failure_count) == (3_000, 3_001, 0)
    assert Tlp(_stored(session, status.events[0].report_id or "").tlp) is Tlp.GREEN  # the tag came last


def _key(attr: Any) -> tuple[Any, ...]:
    return (
        attr.uuid,
        attr.type,
        attr.value,
        attr.to_ids,
        tuple(sorted(t.name for t in attr.tags)),
        int(attr.distribution),
    )


def test_export_loads_in_pymisp_and_round_trips_values_types_tags_distribution(session: Session) -> None:
    a = make_member(session, "analyst")
    doc = generated_event(300, seed=3)
    doc["Event"]["Attribute"][0]["Tag"] = [{"name": "tlp:red"}, {"name": "ngân-hàng"}]
    doc["Event"]["Attribute"][1]["distribution"] = "0"
    doc["Event"]["Attribute"][2]["to_ids"] = False  # an observable: no "modified" of its own
    load(session, a.principal, doc)
    exported = misp.export_event(session, a.principal, doc["Event"]["uuid"])
    original, back = MISPEvent(), MISPEvent()
    original.load(json.dumps(doc))
    back.load(json.dumps(exported))
    assert {_key(x) for x in back.attributes} == {_key(x) for x in original.attributes}
    stamps = {(x.uuid, x.timestamp) for x in original.attributes}
    assert {(x.uuid, x.timestamp) for x in back.attributes} == stamps  # kept as "modified", or in x_misp
    assert {(o.uuid, o.name, tuple(sorted(_key(x) for x in o.attributes))) for o in back.objects} == {
        (o.uuid, o.name, tuple(sorted(_key(x) for x in o.attributes))) for o in original.objects
    }
    assert sorted(t.name for t in back.tags) == sorted(t.name for t in original.tags)
    assert (back.uuid, back.info, int(back.distribution)) == (original.uuid, original.info, 1)
    assert back.threat_level_id == original.threat_level_id and back.analysis == original.analysis


@needs_fixtures
@pytest.mark.parametrize(
    "name",
    [
        "mispevent_testfiles/existing_event.json",
        "57c4445b-c548-4654-af0b-4be3950d210f.json",
        "reportlab_testfiles/image_event.json",
        "reportlab_testfiles/long_event.json",
        "reportlab_testfiles/galaxy_1.json",
        "reportlab_testfiles/sighting_1.json",
    ],
)
def test_real_misp_events_import_and_round_trip(session: Session, name: str) -> None:
    a = make_member(session, "analyst")
    path = FIXTURES / name
    result = misp.import_events(session, a.principal, path.open("rb")).events[0]
    original = MISPEvent()
    original.load_file(str(path))
    assert result.failure_count == 0, result.failures
    assert result.attribute_count == len(original.attributes) + sum(len(o.attributes) for o in original.objects)
    back = MISPEvent()
    back.load(json.dumps(misp.export_event(session, a.principal, original.uuid)))

    def key(x: Any) -> tuple[Any, ...]:
        return (x.uuid, x.type, x.value, x.to_ids, tuple(sorted(t.name for t in x.tags)))

    assert {key(x) for x in back.attributes} == {key(x) for x in original.attributes}
    assert sorted(o.uuid for o in back.objects) == sorted(o.uuid for o in original.objects)
    assert sum(len(o.references) for o in back.objects) == sum(len(o.references) for o in original.objects)
    added = {"tlp:amber"} if not any(t.name.startswith("tlp:") for t in original.tags) else set()
    assert {t.name for t in back.tags} == {t.name for t in original.tags} | added  # the default TLP is written


@needs_fixtures
def test_a_real_event_answers_lookups_and_technique_search(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    result = misp.import_events(session, a.principal, (FIXTURES / "reportlab_testfiles/image_event.json").open("rb"))
    event_uuid = result.events[0].uuid or ""
    assert search(session, b.principal, Filters(technique="T1441")).items[0].id == result.events[0].report_id
    report = _stored(session, result.events[0].report_id or "")
    assert Tlp(report.tlp) is Tlp.CLEAR  # tlp:white
    assert misp.export_event(session, b.principal, event_uuid)["Event"]["uuid"] == event_uuid


def test_exports_show_only_what_the_reader_may_see(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    doc = event(
        attribute("ip-dst", "192.0.2.61"),
        attribute("ip-dst", "192.0.2.62", Tag=[{"name": "tlp:red"}]),
        attribute("ip-dst", "192.0.2.63", distribution="0"),
    )
    load(session, a.principal, doc)
    values = lambda e: sorted(x["value"] for x in e["Event"].get("Attribute", []))  # noqa: E731
    assert values(misp.export_event(session, a.principal, doc["Event"]["uuid"])) == [
        "192.0.2.61",
        "192.0.2.62",
        "192.0.2.63",
    ]
    assert values(misp.export_event(session, b.principal, doc["Event"]["uuid"])) == ["192.0.2.61"]
    (bulk,) = list(misp.export_events(session, a.principal))  # bulk never carries RED, even the creator's
    assert values(bulk) == ["192.0.2.61", "192.0.2.63"]
    private = event(attribute("ip-dst", "192.0.2.64"), distribution="0")
    load(session, a.principal, private)
    with pytest.raises(NotFound):
        misp.export_event(session, b.principal, private["Event"]["uuid"])
    assert len(list(misp.export_events(session, b.principal))) == 1


def test_reports_shared_as_stix_export_as_events(session: Session) -> None:
    a = make_member(session, "analyst")
    indicator_id = f"indicator--{_uuid()}"
    report_uuid = _uuid()
    stamp = "2026-11-01T10:00:00.000Z"
    common = {"spec_version": "2.1", "created": stamp, "modified": stamp}
    share(
        session,
        a.principal,
        {
            "type": "indicator",
            "id": indicator_id,
            **common,
            "pattern": "[domain-name:value = 'phish.example'] OR [ipv4-addr:value = '198.51.100.90']",
            "pattern_type": "stix",
            "valid_from": stamp,
            "labels": ["phishing"],
        },
        {
            "type": "report",
            "id": f"report--{report_uuid}",
            **common,
            "name": "STIX report",
            "published": stamp,
            "object_refs": [indicator_id],
        },
        tlp="green",
    )
    exported = misp.export_event(session, a.principal, report_uuid)
    loaded = MISPEvent()
    loaded.load(json.dumps(exported))
    assert sorted((x.type, x.value, x.to_ids) for x in loaded.attributes) == [
        ("domain", "phish.example", True),
        ("ip-dst", "198.51.100.90", True),
    ]
    assert [t.name for t in loaded.tags] == ["tlp:green"]
    assert all("phishing" in [t.name for t in x.tags] for x in loaded.attributes)


def test_lists_of_events_and_element_level_problems(session: Session) -> None:
    a = make_member(session, "analyst")
    first = event(attribute("ip-dst", "192.0.2.71"))
    second = event(
        attribute("domain", "nul\x00.example"),
        attribute("ip-dst", "192.0.2.72", distribution="9"),
        {"type": "ip-dst", "value": "192.0.2.73", "uuid": "1234"},
        {"type": "ip-dst"},
        "not an object",
    )
    status = load(session, a.principal, {"response": [first, second]})
    assert [e.uuid for e in status.events] == [first["Event"]["uuid"], second["Event"]["uuid"]]
    problems = [(f.where, f.reason) for f in status.events[1].failures]
    assert [where for where, _ in problems] == [
        "Attribute[0]",
        "Attribute[1]",
        "Attribute[2]",
        "Attribute[3]",
        "Attribute[4]",
    ]
    assert problems[0][1] == "the attribute's value contains a NUL character"
    assert "is not a MISP distribution" in problems[1][1]
    assert status.failure_count == 5 and status.events[0].failure_count == 0
    bare = load(session, a.principal, [first["Event"]])
    assert bare.events[0].uuid == first["Event"]["uuid"] and bare.stored_count == 0


def test_numbers_in_other_scripts_are_refused_by_name_not_a_crash(session: Session) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` raises: a distribution written so is one refused attribute."""
    a = make_member(session, "analyst")
    bad = attribute("ip-dst", "192.0.2.98") | {"distribution": "²"}
    result = load(session, a.principal, event(attribute("ip-dst", "192.0.2.99"), bad)).events[0]
    assert [(f.where, f.uuid) for f in result.failures] == [("Attribute[1]", bad["uuid"])]
    assert "distribution" in result.failures[0].reason
