"""Search follows the current version of an object: labels and techniques of superseded versions are dropped."""

from __future__ import annotations

from sqlalchemy.orm import Session

from herdsec.intel import attack
from herdsec.intel.search import Filters, search
from tests.factories import make_member
from tests.intel_factories import indicator, share, stamp


def _ids(session: Session, principal: object, **filters: object) -> set[str]:
    return {o.id for o in search(session, principal, Filters(**filters), limit=100).items}  # type: ignore[arg-type]


def _mitre(technique: str) -> list[dict[str, str]]:
    return [{"source_name": "mitre-attack", "external_id": technique}]


def test_labels_and_techniques_of_superseded_versions_are_not_searchable(session: Session) -> None:
    sharer, reader = make_member(session, "analyst"), make_member(session)
    first = indicator("198.51.100.61", labels=["apt", "phishing"], external_references=_mitre("T1566"))
    share(session, sharer.principal, first, tlp="green")
    assert _ids(session, reader.principal, label="apt") == {first["id"]}
    second = dict(first, modified=stamp(5), labels=["phishing"], external_references=_mitre("T1059"))
    share(session, sharer.principal, second, tlp="green")
    assert _ids(session, reader.principal, label="apt") == set()
    assert _ids(session, reader.principal, label="phishing") == {first["id"]}
    assert _ids(session, reader.principal, technique="T1566") == set()
    assert _ids(session, reader.principal, technique="T1059") == {first["id"]}


def test_an_older_version_arriving_late_adds_no_tags(session: Session) -> None:
    sharer, reader = make_member(session, "analyst"), make_member(session)
    newer = indicator("198.51.100.62", modified=9, labels=["current"])
    share(session, sharer.principal, newer, tlp="green")
    older = dict(newer, modified=stamp(1), labels=["outdated"])
    status = share(session, sharer.principal, older, tlp="green")
    assert status.stored_count == 1  # the history is kept
    assert _ids(session, reader.principal, label="outdated") == set()
    assert _ids(session, reader.principal, label="current") == {newer["id"]}


def test_versions_in_one_bundle_leave_the_newest_tags(session: Session) -> None:
    sharer, reader = make_member(session, "analyst"), make_member(session)
    old = indicator("198.51.100.63", labels=["first"])
    new = dict(old, modified=stamp(3), labels=["second"])
    share(session, sharer.principal, new, old, tlp="green")
    assert _ids(session, reader.principal, label="first") == set()
    assert _ids(session, reader.principal, label="second") == {old["id"]}


def test_a_technique_still_linked_by_a_relationship_stays(session: Session) -> None:
    attack.load(session)
    sharer, reader = make_member(session, "analyst"), make_member(session)
    pattern_id = next(
        o.id for o in search(session, reader.principal, Filters(type="attack-pattern", technique="T1566")).items
    )
    first = indicator("198.51.100.64", external_references=_mitre("T1566"))
    link = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--6b0f6b5e-1e5a-4f43-9d1b-3b7a0e1f2c64",
        "created": stamp(),
        "modified": stamp(),
        "relationship_type": "indicates",
        "source_ref": first["id"],
        "target_ref": pattern_id,
    }
    share(session, sharer.principal, first, link, tlp="green")
    share(session, sharer.principal, dict(first, modified=stamp(7), external_references=[]), tlp="green")
    assert _ids(session, reader.principal, technique="T1566", type="indicator") == {first["id"]}
