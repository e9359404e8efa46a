"""The scan set's cursor and incremental answers move only with what the caller may see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from herdsec.core.errors import InvalidInput
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel import scanset
from tests.factories import make_member
from tests.intel_factories import indicator, share, sighting


def test_hidden_shares_and_sightings_move_neither_the_cursor_nor_the_answer(session: Session) -> None:
    sharer, reader, other = (make_member(session, "analyst") for _ in range(3))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    public = indicator("185.220.101.20", tlp=Tlp.CLEAR) | {"valid_from": now, "created": now, "modified": now}
    share(session, sharer.principal, public, distribution="community")
    first = list(scanset.changes(session, reader.principal, None))
    assert [(line["op"], line["value"]) for line in first if "op" in line] == [("add", "185.220.101.20")]
    cursor = first[-1]["cursor"]
    share(session, sharer.principal, *[indicator(f"185.220.102.{i}") for i in range(1, 6)], distribution="organization")
    hidden = sighting(public["id"], object_marking_refs=[TLP2_MARKINGS[Tlp.RED]])
    share(session, other.principal, hidden, distribution="organization")
    again = list(scanset.changes(session, reader.principal, cursor))
    assert [line for line in again if "op" in line] == []
    assert again[-1]["cursor"] == cursor
    seen = sighting(public["id"], object_marking_refs=[TLP2_MARKINGS[Tlp.GREEN]])
    share(session, other.principal, seen, distribution="community")
    third = list(scanset.changes(session, reader.principal, cursor))
    assert [(line["op"], line["value"]) for line in third if "op" in line] == [
        ("remove", "185.220.101.20"),
        ("add", "185.220.101.20"),
    ]
    assert third[-1]["cursor"] != cursor


def test_a_red_sighting_does_not_revive_a_value_in_bulk_output(session: Session) -> None:
    """The reader sees its own TLP:RED sighting interactively (lookup revives the indicator), but exports and scan
    sets leave the hub unattended: through them the RED report changes nothing."""
    from herdsec.intel import service
    from herdsec.intel.exportable import exportable_values

    sharer, reader = make_member(session, "analyst"), make_member(session, "analyst")
    old = indicator("185.220.103.7", tlp=Tlp.GREEN)
    old.update(valid_from="2020-01-01T00:00:00Z", created="2020-01-01T00:00:00Z", modified="2020-01-01T00:00:00Z")
    share(session, sharer.principal, old, distribution="community")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    red = sighting(old["id"], object_marking_refs=[TLP2_MARKINGS[Tlp.RED]], last_seen=now, first_seen=now)
    share(session, reader.principal, red, distribution="organization")
    assert not service.lookup(session, reader.principal, "185.220.103.7").matches[0].expired  # interactively revived
    assert [line for line in scanset.changes(session, reader.principal, None) if "op" in line] == []
    assert [v.value for v in exportable_values(session, reader.principal)] == []


@pytest.mark.parametrize("cursor", ["1.2", "a.b.c", "1.2.³", "².1.1", "1.2." + "9" * 20])
def test_a_bad_scan_set_cursor_is_refused_by_name(session: Session, cursor: str) -> None:
    reader = make_member(session, "analyst")
    with pytest.raises(InvalidInput, match="invalid scan set cursor"):
        list(scanset.changes(session, reader.principal, cursor))
