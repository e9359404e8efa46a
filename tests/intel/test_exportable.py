"""The selection rule of detection exports: what is kept, what is left out by default, what never relaxes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.errors import InvalidInput
from herdsec.intel.exportable import export_state, exportable_values, visible_object_data
from tests.intel.export_world import (
    EXPIRED,
    FALSE_POSITIVE,
    INVISIBLE,
    LIVE,
    MALFORMED,
    RED,
    REVOKED,
    WARNINGLISTED,
    all_live,
    build,
    dom,
)
from tests.intel_factories import share


def values(session: Session, actor: object, **flags: object) -> set[str]:
    return {v.value for v in exportable_values(session, actor, **flags)}  # type: ignore[arg-type]


def test_default_export_keeps_live_values_and_leaves_out_the_rest(session: Session) -> None:
    world = build(session)
    got = values(session, world.reader.principal)
    assert got == all_live()
    for absent in (WARNINGLISTED, FALSE_POSITIVE, REVOKED, INVISIBLE, RED, *EXPIRED):
        assert absent not in got


def test_each_flag_brings_back_its_values_but_visibility_never_relaxes(session: Session) -> None:
    world = build(session)
    reader = world.reader.principal
    assert values(session, reader, include_warninglisted=True) == all_live() | {WARNINGLISTED}
    assert values(session, reader, include_expired=True) == all_live() | set(EXPIRED)
    assert values(session, reader, include_false_positive=True) == all_live() | {FALSE_POSITIVE}
    malformed = values(session, reader, include_malformed=True) - all_live()
    assert len(malformed) == 1 and '"' in next(iter(malformed))
    everything = values(
        session,
        reader,
        include_warninglisted=True,
        include_expired=True,
        include_false_positive=True,
        include_malformed=True,
    )
    assert REVOKED not in everything and INVISIBLE not in everything
    assert RED not in everything  # RED never leaves in bulk, not even to its creator
    assert INVISIBLE in values(session, world.other.principal)  # the creator itself exports its AMBER
    assert MALFORMED.split(";")[0] in next(iter(malformed))


def test_value_records_carry_the_indicator_and_its_flags(session: Session) -> None:
    world = build(session)
    by_value = {v.value: v for v in exportable_values(session, world.reader.principal, include_false_positive=True)}
    listed = by_value["listed.example"]
    assert listed.indicator_id.startswith("indicator--") and listed.source == "Ngân hàng Nguồn"
    assert listed.score > 90 and not listed.expired and not listed.false_positive and listed.indicators == 1
    assert by_value[FALSE_POSITIVE].false_positive
    assert "xn--bcngan-jxa6332d.vn" in by_value  # IDNA in punycode


def test_types_since_and_a_value_shared_twice(session: Session) -> None:
    world = build(session)
    reader = world.reader.principal
    assert values(session, reader, types=["domain"]) == set(LIVE["domain"])
    assert values(session, reader, types=["ipv4,ipv6"]) == set(LIVE["ipv4"] + LIVE["ipv6"])
    assert values(session, reader, since=utcnow() + timedelta(minutes=1)) == set()
    mark = utcnow()
    share(session, world.other.principal, dom("listed.example"), dom("later.xyz"), tlp="green")
    assert values(session, reader, since=mark) == {"listed.example", "later.xyz"}
    listed = [v for v in exportable_values(session, reader, types=["domain"]) if v.value == "listed.example"]
    assert len(listed) == 1 and listed[0].indicators == 2 and listed[0].source == "Công ty Riêng"
    with pytest.raises(InvalidInput):
        list(exportable_values(session, reader, types=["nonsense"]))


def test_paging_never_splits_or_repeats_a_value(session: Session) -> None:
    world = build(session)
    reader = world.reader.principal
    for n in range(4):  # the same value from several organizations: one value, many rows
        share(session, world.other.principal if n % 2 else world.sharer.principal, dom("listed.example"), tlp="green")
    expected = sorted((v.type, v.value) for v in exportable_values(session, reader))
    for batch in (1, 2, 3, 5):
        paged = [(v.type, v.value) for v in exportable_values(session, reader, batch=batch)]
        assert sorted(paged) == expected and len(paged) == len(set(paged))


def test_as_of_pins_the_export_to_a_state(session: Session) -> None:
    world = build(session)
    state = export_state(session, world.reader.principal)
    share(session, world.sharer.principal, dom("newer.xyz"), tlp="green")
    assert "newer.xyz" not in values(session, world.reader.principal, as_of=state)
    assert "newer.xyz" in values(session, world.reader.principal)


def test_visible_objects_for_stix(session: Session) -> None:
    world = build(session)
    texts = list(visible_object_data(session, world.reader.principal, batch=3))
    joined = "\n".join(texts)
    assert "listed.example" in joined and REVOKED in joined  # the revocation is news
    assert INVISIBLE not in joined and RED not in joined
    assert len(texts) == len(set(texts))
