"""Pure TAXII rules: media types, collection ids, query parameters, the signed cursor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herdsec.core.errors import InvalidInput
from herdsec.intel.taxii.logic import (
    MAX_LIMIT,
    acceptable,
    collection_id,
    content_type_ok,
    parse_query,
    read_cursor,
    sign_cursor,
)
from herdsec.intel.taxii.objects import OBJECT_PARAMS

SECRET = "s" * 40


def test_accept_header() -> None:
    assert acceptable(None) and acceptable("") and acceptable("*/*") and acceptable("application/*")
    assert acceptable("application/taxii+json;version=2.1") and acceptable("application/taxii+json")
    assert acceptable('application/taxii+json; version="2.1"')
    assert acceptable("text/html, application/taxii+json;version=2.1;q=0.9")
    assert not acceptable("application/taxii+json;version=2.0")
    assert not acceptable("application/json") and not acceptable("text/html")
    assert not acceptable("application/taxii+json;version=2.1;q=0")
    assert not acceptable("application/stix+json;version=2.1")
    assert acceptable("application/stix+json;version=2.1", stix=True)


def test_content_type() -> None:
    assert content_type_ok("application/taxii+json;version=2.1") and content_type_ok("application/taxii+json")
    for bad in (
        None,
        "",
        "application/json",
        "application/stix+json;version=2.1",
        "application/taxii+json;version=2.0",
    ):
        assert not content_type_ok(bad)


def test_collection_ids_are_stable_and_distinct() -> None:
    assert collection_id("community") == collection_id("community")
    assert len({collection_id(a) for a in ("community", "reference", "everything", "org:x", "group:y")}) == 5


def test_query_parsing() -> None:
    query, cursor = parse_query(
        [("match[type]", "indicator,malware"), ("match[version]", "2026-11-01T10:00:00Z,first"), ("limit", "5")],
        allowed=OBJECT_PARAMS,
    )
    assert query.types == ("indicator", "malware") and query.limit == 5 and cursor is None
    assert query.versions == ("2026-11-01T10:00:00.000Z", "first")
    assert parse_query([("limit", "99999")], allowed=OBJECT_PARAMS)[0].limit == MAX_LIMIT
    assert parse_query([], allowed=OBJECT_PARAMS)[0].versions == ("last",)
    for bad in ([("limit", "0")], [("match[type]", ",")], [("limit", "1"), ("limit", "2")], [("match[x]", "1")]):
        with pytest.raises(InvalidInput):
            parse_query(bad, allowed=OBJECT_PARAMS)


@given(seq=st.integers(min_value=0, max_value=2**62), scope=st.text(max_size=20))
def test_cursor_round_trip_and_binding(seq: int, scope: str) -> None:
    query, _ = parse_query([], allowed=OBJECT_PARAMS)
    digest = query.digest(scope)
    token = sign_cursor(SECRET, seq, digest)
    assert read_cursor(SECRET, token, digest) == seq
    with pytest.raises(InvalidInput):
        read_cursor("another secret of forty characters......", token, digest)
    with pytest.raises(InvalidInput):
        read_cursor(SECRET, token, query.digest(scope + "/other"))


@given(token=st.text(max_size=60))
def test_arbitrary_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_cursor(SECRET, token, "0" * 16)
    assert caught.value.where == "next"
