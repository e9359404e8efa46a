"""Ingest of STIX 2.1 bundles into the store: validation, versions, ownership, markings, indexing."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herdsec.core.errors import InvalidInput, PermissionDenied
from herdsec.identity.visibility import TLP1_MARKINGS, TLP2_MARKINGS, Tlp
from herdsec.intel import service
from herdsec.intel.models import Observable, StixObject
from tests.conftest import SHARED
from tests.factories import make_group, make_member, principal_of
from tests.intel_factories import bundle, indicator, share, stamp


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_bundle_is_stored_indexed_and_found_by_value(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    status = share(
        session,
        a.principal,
        indicator("203.0.113.9"),
        indicator(pattern="[domain-name:value = 'BỘCÔNGAN-giả.vn'] OR [url:value = 'http://evil.example/a']"),
    )
    assert (status.total_count, status.success_count, status.stored_count, status.failure_count) == (2, 2, 2, 0)
    found = service.lookup(session, b.principal, "203.0.113[.]9")
    assert [m.value for m in found.matches] == ["203.0.113.9"]
    assert found.matches[0].creator == a.org.name and found.matches[0].tlp == "amber"
    by_unicode = service.lookup(session, b.principal, "bộcôngan-giả.vn")
    by_puny = service.lookup(session, b.principal, by_unicode.value or "")
    assert len(by_unicode.matches) == 1 and by_unicode.matches == by_puny.matches
    assert service.lookup(session, b.principal, "hxxp://evil[.]example/a").matches


def test_reingest_is_idempotent(session: Session) -> None:
    a = make_member(session, "analyst")
    objects = [indicator("192.0.2.10"), indicator("192.0.2.11")]
    share(session, a.principal, *objects)
    again = share(session, a.principal, *objects)
    assert (again.success_count, again.stored_count) == (2, 0)
    assert _count(session, StixObject) == 2


def test_versions_newest_is_current_and_history_is_kept(session: Session) -> None:
    a = make_member(session, "analyst")
    first = indicator("192.0.2.20", modified=1)
    share(session, a.principal, first)
    newer = {**first, "modified": stamp(5), "pattern": "[ipv4-addr:value = '192.0.2.21']"}
    older = {**first, "modified": stamp(3), "pattern": "[ipv4-addr:value = '192.0.2.22']"}
    share(session, a.principal, newer)
    share(session, a.principal, older)  # arrives late: kept as history
    rows = session.execute(
        select(StixObject.modified, StixObject.current)
        .where(StixObject.stix_id == first["id"])
        .order_by(StixObject.modified)
    ).all()
    assert [current for _m, current in rows] == [False, False, True]
    assert json.loads(service.get_object(session, a.principal, first["id"]))["modified"] == stamp(5)
    assert not service.lookup(session, a.principal, "192.0.2.20").matches  # only current versions match
    assert service.lookup(session, a.principal, "192.0.2.21").matches


def test_another_organizations_object_cannot_be_overwritten(session: Session) -> None:
    owner, intruder = make_member(session, "analyst"), make_member(session, "analyst")
    original = indicator("192.0.2.30", modified=1)
    share(session, owner.principal, original)
    hijack = {**original, "modified": stamp(9), "revoked": True}
    status = share(session, intruder.principal, hijack)
    assert status.failure_count == 1 and "another organization" in status.failures[0].reason
    stored = json.loads(service.get_object(session, owner.principal, original["id"]))
    assert stored["modified"] == stamp(1) and "revoked" not in stored


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda o: o.pop("pattern"), "pattern is required"),
        (lambda o: o.update(spec_version="2.0"), "spec_version"),
        (lambda o: o.update(id="indicator--not-a-uuid"), "id"),
        (lambda o: o.update(id="malware--2f2a1ba9-3f0a-4c33-9b48-4e1d3a0c63d8"), "does not match type"),
        (lambda o: o.update(created="yesterday"), "created is not a STIX timestamp"),
        (lambda o: o.update(modified="2020-01-01T00:00:00Z"), "earlier than created"),
        (lambda o: o.update(pattern="[ipv4-addr:value = '1.2.3.4'"), "invalid pattern"),
        (lambda o: o.update(pattern="[file:name MATCHES '(a+)+$']"), "invalid pattern"),
        (lambda o: o.update(created_by_ref="someone"), "created_by_ref"),
        (lambda o: o.update(description="x" * 1_000_001), "longer than"),
        (lambda o: o.update(x_deep=json.loads("[" * 40 + "]" * 40)), "nested deeper"),
        (lambda o: o.update(valid_until=o["valid_from"]), "valid_until"),
    ],
)
def test_invalid_objects_are_reported_with_index_id_and_reason(session: Session, mutate: object, reason: str) -> None:
    a = make_member(session, "analyst")
    bad = indicator("192.0.2.40")
    mutate(bad)  # type: ignore[operator]
    status = share(session, a.principal, indicator("192.0.2.41"), bad)
    assert (status.success_count, status.failure_count) == (1, 1)
    failure = status.failures[0]
    assert failure.index == 1 and reason in failure.reason
    assert failure.id == bad.get("id")


def test_malformed_json_names_line_and_column_and_stores_nothing(session: Session) -> None:
    a = make_member(session, "analyst")
    text = json.dumps(bundle(indicator("192.0.2.50")), indent=1)
    broken = text.replace('"pattern_type"', '"pattern_type" "', 1)
    with pytest.raises(InvalidInput) as info:
        service.ingest_bundle(session, a.principal, io.BytesIO(broken.encode()))
    assert info.value.where and info.value.where.startswith("line ") and "column" in info.value.where
    assert _count(session, StixObject) == 0


@pytest.mark.parametrize(
    "document", [b"[]", b'"bundle"', b'{"type": "report", "objects": []}', b'{"id": "x", "objects": []}']
)
def test_non_bundles_are_refused(session: Session, document: bytes) -> None:
    a = make_member(session, "analyst")
    with pytest.raises(InvalidInput, match="bundle"):
        service.ingest_bundle(session, a.principal, io.BytesIO(document))


def test_stix_20_bundles_are_refused(session: Session) -> None:
    a = make_member(session, "analyst")
    doc = {"type": "bundle", "id": "bundle--1", "spec_version": "2.0", "objects": []}
    with pytest.raises(InvalidInput, match=r"2\.0"):
        service.ingest_bundle(session, a.principal, io.BytesIO(json.dumps(doc).encode()))


def test_type_after_objects_is_still_checked(session: Session) -> None:
    a = make_member(session, "analyst")
    doc = '{"objects": [' + json.dumps(indicator("192.0.2.60")) + '], "id": "bundle--x", "type": "bundle"}'
    assert service.ingest_bundle(session, a.principal, io.BytesIO(doc.encode())).stored_count == 1


def test_custom_objects_and_extensions_are_kept_verbatim(session: Session) -> None:
    a = make_member(session, "analyst")
    custom = {
        "type": "x-herdsec-note",
        "spec_version": "2.1",
        "id": "x-herdsec-note--6f3e8a1e-1c1e-4b7b-9b0a-2a5d7c9e0b11",
        "created": stamp(),
        "modified": stamp(),
        "x_body": {"nested": [1, 2.5, "ba"]},
        "extensions": {"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"rank": 5}},
    }
    share(session, a.principal, custom)
    stored = json.loads(service.get_object(session, a.principal, custom["id"]))
    assert stored == {**custom, "created_by_ref": f"identity--{a.org.uuid}"}  # the sharer is the creator of record


def test_markings_visibility_and_distribution(session: Session) -> None:
    owner, member, partner = make_member(session, "admin"), make_member(session), make_member(session)
    group = make_group(session, owner.principal, [partner.org.id])
    owner_p = principal_of(session, owner.user)  # now a member of the group it owns
    red = indicator("192.0.2.70", tlp=Tlp.RED)
    amber = indicator("192.0.2.71", tlp=Tlp.AMBER)
    tlp1_green = indicator("192.0.2.72", object_marking_refs=[next(iter(TLP1_MARKINGS))])
    unknown = indicator("192.0.2.73", object_marking_refs=["marking-definition--11111111-2222-4333-8444-555555555555"])
    share(session, owner_p, red, amber, tlp1_green, unknown)
    grouped = indicator("192.0.2.74", tlp=Tlp.RED)
    share(session, owner_p, grouped, distribution=f"sharing-group:{group}")
    sees = {
        who: {
            v
            for v in ("192.0.2.70", "192.0.2.71", "192.0.2.72", "192.0.2.73", "192.0.2.74")
            if service.lookup(session, p, v).matches
        }
        for who, p in (
            ("owner", owner_p),
            ("member", member.principal),
            ("partner", principal_of(session, partner.user)),
        )
    }
    assert sees["owner"] == {"192.0.2.70", "192.0.2.71", "192.0.2.72", "192.0.2.73", "192.0.2.74"}
    assert sees["member"] == {"192.0.2.71", "192.0.2.72"}
    assert sees["partner"] == {"192.0.2.71", "192.0.2.72", "192.0.2.74"}
    stored = json.loads(service.get_object(session, owner_p, tlp1_green["id"]))
    assert stored["object_marking_refs"] == [TLP2_MARKINGS[Tlp.CLEAR]]  # TLP 1.0 normalised (WHITE → CLEAR)


def test_sharing_group_must_be_ones_own_and_viewers_cannot_share(session: Session) -> None:
    a, other = make_member(session, "analyst"), make_member(session, "admin")
    foreign_group = make_group(session, other.principal, [])
    with pytest.raises(PermissionDenied):
        share(session, a.principal, indicator(), distribution=f"sharing-group:{foreign_group}")
    viewer = make_member(session, "viewer")
    with pytest.raises(PermissionDenied):
        share(session, viewer.principal, indicator())
    with pytest.raises(InvalidInput):
        share(session, a.principal, indicator(), tlp="purple")


def test_malformed_values_are_flagged_not_fatal(session: Session) -> None:
    a = make_member(session, "analyst")
    status = share(
        session, a.principal, indicator(pattern="[domain-name:value = 'bad domain.com']"), indicator("8.8.8.8")
    )
    assert status.failure_count == 0 and status.flagged_values == 2
    rows = {
        v: (p, w) for v, p, w in session.execute(select(Observable.value, Observable.problem, Observable.warninglists))
    }
    assert rows["8.8.8.8"][1]  # a public DNS resolver: on a warninglist
    bad = [problem for value, (problem, _w) in rows.items() if value != "8.8.8.8"]
    assert len(bad) == 1 and bad[0]  # the domain with a space: indexed with its problem


def test_an_objects_values_keep_their_order_whether_or_not_one_is_flagged(session: Session) -> None:
    """Values with neither a problem nor a warninglist are written apart from the others (fewer NULLs to bind): an
    object's values still come back in its pattern's order."""
    a = make_member(session, "analyst")
    digest = "0123456789abcdef0123456789abcdef"
    flagged = indicator(pattern="[ipv4-addr:value = '8.8.8.8'] AND [domain-name:value = 'evil.example']")
    plain = indicator(pattern=f"[domain-name:value = 'evil.example'] AND [file:hashes.MD5 = '{digest}']")
    later = indicator(pattern="[domain-name:value = 'first.example'] AND [ipv4-addr:value = '8.8.4.4']")
    status = share(session, a.principal, flagged, plain, later)
    assert status.failure_count == 0 and status.flagged_values == 2
    expected = [
        (flagged, ["8.8.8.8", "evil.example"]),
        (plain, ["evil.example", digest]),
        (later, ["first.example", "8.8.4.4"]),
    ]
    for obj, values in expected:
        stored = session.execute(
            select(Observable.value, Observable.problem, Observable.warninglists)
            .join(StixObject, StixObject.id == Observable.object_id)
            .where(StixObject.stix_id == obj["id"])
            .order_by(Observable.id)
        ).all()
        assert [row[0] for row in stored] == values
    assert session.scalar(select(Observable.warninglists).where(Observable.value == "8.8.8.8"))
    unlisted = session.scalars(select(Observable.warninglists).where(Observable.value == "evil.example")).all()
    assert unlisted == [None, None]


def test_html_in_names_is_stored_verbatim(session: Session) -> None:
    a = make_member(session, "analyst")
    evil = indicator("192.0.2.80", name="<script>alert(1)</script>", description="<img src=x onerror=alert(1)>")
    share(session, a.principal, evil)
    assert json.loads(service.get_object(session, a.principal, evil["id"]))["name"] == "<script>alert(1)</script>"


def test_date_added_and_seq_strictly_increase(session: Session) -> None:
    a = make_member(session, "analyst")
    share(session, a.principal, *[indicator() for _ in range(5)])
    share(session, a.principal, *[indicator() for _ in range(5)])
    rows = session.execute(select(StixObject.seq, StixObject.date_added).order_by(StixObject.seq)).all()
    assert all(x[0] < y[0] and x[1] < y[1] for x, y in itertools.pairwise(rows))


EXAMPLES = SHARED / "data" / "stix21-examples" / "cti-stix2-json-schemas"


@pytest.mark.skipif(not EXAMPLES.exists(), reason="../shared/data/stix21-examples is not present")
def test_the_oasis_example_bundles_ingest_cleanly(session: Session) -> None:
    a = make_member(session, "analyst")
    files = sorted((EXAMPLES / "examples").rglob("*.json"))
    assert files
    for path in files:
        document = json.loads(path.read_text())
        if document.get("type") != "bundle":  # some interop files are single objects
            document = bundle(document)
        status = service.ingest_bundle(session, a.principal, io.BytesIO(json.dumps(document).encode()))
        assert status.failure_count == 0, (path.name, status.failures[:3])


def test_large_files_are_prepared_in_a_second_process(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from herdsec.intel import prepare

    monkeypatch.setattr(prepare, "PARALLEL_MIN_BYTES", 0)  # any file counts as large
    a = make_member(session, "analyst")
    good = tmp_path / "bundle.json"
    good.write_text(
        json.dumps(
            bundle(*[indicator(f"192.0.2.{i}") for i in range(1, 40)], indicator(pattern="[ipv4-addr:value = 'x'"))
        )
    )
    with good.open("rb") as handle:
        status = service.ingest_bundle(session, a.principal, handle)
    assert (status.stored_count, status.failure_count) == (39, 1) and status.failures[0].index == 39
    assert service.lookup(session, a.principal, "192.0.2.39").matches
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle", "objects": [\n' + json.dumps(indicator("192.0.2.200")) + ",\n{]}")
    with broken.open("rb") as handle, pytest.raises(InvalidInput) as info:
        service.ingest_bundle(session, a.principal, handle)
    assert info.value.where == "line 3, column 2"


def test_absurd_nesting_is_refused_without_eating_memory(session: Session) -> None:
    import resource

    a = make_member(session, "analyst")
    depth = 200_000  # 400 KB; the streaming parser alone would need gigabytes
    bomb = b'{"type": "bundle", "objects": [' + b"[" * depth + b"]" * depth + b"]}"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InvalidInput, match="nested deeper"):
        service.ingest_bundle(session, a.principal, io.BytesIO(bomb))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB: well under 200 MB


def test_absurd_nesting_in_a_large_file_is_refused_by_the_capped_reader(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from herdsec.intel import ingest, prepare

    monkeypatch.setattr(prepare, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(prepare, "WORKER_MEMORY", 512 * 1024 * 1024)
    monkeypatch.setattr(ingest, "PRECHECK_MAX_BYTES", 0)  # make the reader process meet it
    a = make_member(session, "analyst")
    bomb = tmp_path / "bomb.json"
    depth = 200_000
    bomb.write_bytes(b'{"type": "bundle", "objects": [' + b"[" * depth + b"]" * depth + b"]}")
    with bomb.open("rb") as handle, pytest.raises(InvalidInput, match="memory") as info:
        service.ingest_bundle(session, a.principal, handle)
    from herdsec.core.i18n import translations

    assert "bộ nhớ" in info.value.render(translations("vi").gettext)  # the reader's reason in Vietnamese too
