"""A statement marking defined later in the same bundle resolves; any other unknown marking still fails closed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel import service
from tests.factories import make_member
from tests.intel_factories import indicator, share, stamp

LATER = "marking-definition--7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
NEVER = "marking-definition--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def _statement(marking_id: str = LATER) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": stamp(),
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2026 the sharer"},
    }


def test_a_statement_defined_later_in_the_bundle_resolves(session: Session) -> None:
    sharer, reader = make_member(session, "analyst"), make_member(session)
    before = indicator("203.0.113.201", object_marking_refs=[LATER])
    red = indicator("203.0.113.202", object_marking_refs=[LATER, TLP2_MARKINGS[Tlp.RED]])
    status = share(session, sharer.principal, before, red, _statement(), tlp="green")
    assert status.failure_count == 0
    assert service.lookup(session, reader.principal, "203.0.113.201").matches[0].tlp == "green"
    assert service.lookup(session, reader.principal, "203.0.113.202").matches == []  # still red
    assert service.lookup(session, sharer.principal, "203.0.113.202").matches[0].tlp == "red"


def test_a_truly_unknown_marking_still_fails_closed(session: Session) -> None:
    sharer, reader = make_member(session, "analyst"), make_member(session)
    unknown = indicator("203.0.113.203", object_marking_refs=[LATER, NEVER])
    share(session, sharer.principal, unknown, _statement(), tlp="green")
    assert service.lookup(session, reader.principal, "203.0.113.203").matches == []
    assert service.lookup(session, sharer.principal, "203.0.113.203").matches[0].tlp == "unknown"


def test_another_organizations_definition_in_my_bundle_unlocks_nothing(session: Session) -> None:
    other, sharer, reader = make_member(session, "analyst"), make_member(session, "analyst"), make_member(session)
    share(session, other.principal, _statement(), tlp="clear", distribution="all")
    marked = indicator("203.0.113.204", object_marking_refs=[LATER])
    after = indicator("203.0.113.205", object_marking_refs=[LATER])
    status = share(session, sharer.principal, marked, _statement(), after, tlp="green")
    assert status.failure_count == 1  # the definition belongs to the other organization
    assert service.lookup(session, reader.principal, "203.0.113.204").matches == []
    assert service.lookup(session, reader.principal, "203.0.113.205").matches == []
