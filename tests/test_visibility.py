"""Visibility: unit tests of the marking rules, and property tests over random members, groups and items.

The property tests check two things on the real database: the SQL filter selects exactly what ``may_see`` allows,
and both obey the rules as the issue states them (written out again below, independently of the implementation).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from herdsec.core.errors import InvalidInput
from herdsec.identity.visibility import (
    TLP2_MARKINGS,
    Audience,
    Channel,
    Distribution,
    Shared,
    Tlp,
    Viewer,
    effective_tlp,
    may_see,
    normalise_marking,
    onward_distribution,
    visible_filter,
)
from tests.shared_table import SHARED_COLUMNS, shared_items

STATEMENT = "marking-definition--ad2caa47-58fd-4491-8f67-255377927369"
UNKNOWN = "marking-definition--00000000-0000-4000-8000-000000000000"


def test_tlp2_ids_are_the_oasis_ones() -> None:
    assert TLP2_MARKINGS[Tlp.AMBER_STRICT] == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    assert TLP2_MARKINGS[Tlp.CLEAR] == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


@pytest.mark.parametrize(
    ("tlp1", "tlp2"),
    [
        ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp.CLEAR),
        ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp.GREEN),
        ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp.AMBER),
        ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp.RED),
    ],
)
def test_tlp1_ids_normalise_to_tlp2(tlp1: str, tlp2: Tlp) -> None:
    assert normalise_marking(tlp1) == TLP2_MARKINGS[tlp2]
    assert effective_tlp([tlp1]) is tlp2


def test_markings_combine_with_and_and_unknown_fails_closed() -> None:
    green, amber, red = TLP2_MARKINGS[Tlp.GREEN], TLP2_MARKINGS[Tlp.AMBER], TLP2_MARKINGS[Tlp.RED]
    assert effective_tlp([green, amber]) is Tlp.AMBER
    assert effective_tlp([red, green]) is Tlp.RED
    assert effective_tlp([green, UNKNOWN]) is Tlp.UNKNOWN
    assert effective_tlp([green, STATEMENT], known_other=[STATEMENT]) is Tlp.GREEN
    assert effective_tlp([], default=Tlp.GREEN) is Tlp.GREEN
    assert normalise_marking(STATEMENT) == STATEMENT


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("clear", Tlp.CLEAR),
        ("TLP:WHITE", Tlp.CLEAR),
        ("green", Tlp.GREEN),
        ("tlp:amber+strict", Tlp.AMBER_STRICT),
        ("AMBER_STRICT", Tlp.AMBER_STRICT),
        ("Red", Tlp.RED),
    ],
)
def test_tlp_parse(text: str, level: Tlp) -> None:
    assert Tlp.parse(text) is level


@pytest.mark.parametrize("text", ["purple", "unknown", ""])
def test_tlp_parse_refuses_unknown(text: str) -> None:
    with pytest.raises(InvalidInput, match="unknown TLP") as info:
        Tlp.parse(text)
    assert info.value.where == "tlp"


def test_distribution_parse() -> None:
    assert Distribution.parse("community") == (Distribution.COMMUNITY, None)
    assert Distribution.parse("sharing-group:7") == (Distribution.SHARING_GROUP, 7)
    assert Distribution.parse("0") == (Distribution.ORGANIZATION, None)
    for bad in ("sharing-group:x", "sharing-group", "everyone"):
        with pytest.raises(InvalidInput):
            Distribution.parse(bad)


def test_connected_stops_at_the_peer() -> None:
    assert onward_distribution(Distribution.CONNECTED) is Distribution.COMMUNITY
    assert onward_distribution(Distribution.ALL) is Distribution.ALL


# --- the rules, stated independently of the implementation --------------------------------------------------------


def expected(viewer: Viewer, item: Shared) -> bool:
    """The issue's words as a truth table: distribution decides recipients, TLP caps the reach."""
    tlp, dist = item.tlp, item.distribution
    if tlp is Tlp.UNKNOWN:  # fails closed: the creator only, never in bulk
        return (
            viewer.audience is Audience.MEMBER
            and viewer.org_id == item.creator_org_id
            and viewer.channel is Channel.INTERACTIVE
        )
    if tlp is Tlp.RED and viewer.channel is Channel.BULK:  # never bulk exports or federation
        return False
    if viewer.audience is Audience.PUBLIC:  # only CLEAR, only when published to all
        return tlp is Tlp.CLEAR and dist is Distribution.ALL
    if viewer.audience is Audience.PEER:  # GREEN/CLEAR and a distribution that names connected communities
        return tlp in (Tlp.CLEAR, Tlp.GREEN) and dist in (Distribution.CONNECTED, Distribution.ALL)
    if viewer.org_id == item.creator_org_id:
        return True
    if dist is Distribution.ORGANIZATION:
        return False
    if dist is Distribution.SHARING_GROUP:
        return item.sharing_group_id in viewer.group_ids
    # community / connected / all: every member, except RED which stays with group or creator
    return tlp is not Tlp.RED


orgs = st.integers(min_value=1, max_value=6)
groups = st.integers(min_value=1, max_value=4)
items_st = st.builds(
    Shared,
    creator_org_id=orgs,
    tlp=st.sampled_from(list(Tlp)),
    distribution=st.sampled_from(list(Distribution)),
    sharing_group_id=st.one_of(st.none(), groups),
)
viewers_st = st.one_of(
    st.builds(Viewer.member, orgs, st.frozensets(groups, max_size=3), st.booleans()),
    st.just(Viewer.peer()),
    st.just(Viewer.public()),
)


@given(viewer=viewers_st, item=items_st)
@settings(max_examples=2000, deadline=None)
def test_may_see_follows_the_rules(viewer: Viewer, item: Shared) -> None:
    assert may_see(viewer, item) == expected(viewer, item)


@given(viewer=viewers_st, item=items_st)
@settings(max_examples=500, deadline=None)
def test_never_wider_than_the_creator_chose(viewer: Viewer, item: Shared) -> None:
    """Safety properties, each one line of the issue."""
    seen = may_see(viewer, item)
    if seen and viewer.audience is not Audience.MEMBER:
        assert item.tlp in (Tlp.CLEAR, Tlp.GREEN)  # AMBER, RED, unknown never federated or public
    if seen and viewer.audience is Audience.PUBLIC:
        assert item.tlp is Tlp.CLEAR
    if seen and viewer.channel is Channel.BULK:
        assert item.tlp < Tlp.RED
    if seen and item.tlp is Tlp.RED:
        assert viewer.org_id == item.creator_org_id or (
            item.distribution is Distribution.SHARING_GROUP and item.sharing_group_id in viewer.group_ids
        )
    if seen and item.distribution is Distribution.ORGANIZATION:
        assert viewer.org_id == item.creator_org_id


@given(data=st.lists(items_st, min_size=1, max_size=40), viewers=st.lists(viewers_st, min_size=1, max_size=6))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_sql_filter_selects_exactly_what_may_be_seen(
    connection: Connection, data: list[Shared], viewers: list[Viewer]
) -> None:
    """Each viewer sees everything it may and nothing it must not, on the real database."""
    savepoint = connection.begin_nested()
    try:
        rows = [
            {
                "id": i + 1,
                "creator_org_id": it.creator_org_id,
                "tlp": int(it.tlp),
                "distribution": it.distribution.value,
                "sharing_group_id": it.sharing_group_id,
            }
            for i, it in enumerate(data)
        ]
        connection.execute(insert(shared_items), rows)
        for viewer in viewers:
            got = set(connection.scalars(select(shared_items.c.id).where(visible_filter(viewer, SHARED_COLUMNS))))
            want = {i + 1 for i, it in enumerate(data) if expected(viewer, it)}
            assert got == want, (viewer, [data[i - 1] for i in got ^ want])
    finally:
        savepoint.rollback()
