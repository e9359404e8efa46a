"""TAXII reads against an independent statement of the rules: random objects (creator, TLP, distribution, group),
every reader, every collection. What a collection serves is exactly what the bulk visibility rule allows within the
collection's audience."""

from __future__ import annotations

import random

import pytest
from sqlalchemy.orm import Session

from herdsec.identity.visibility import Distribution, Shared, Tlp, Viewer, may_see
from herdsec.intel import taxii
from tests.factories import Member, make_group, make_member, principal_of
from tests.intel_factories import indicator, share

SECRET = "k" * 40


def _audience_of(collection: taxii.Collection, item: Shared, reader: Member) -> bool:
    """The collection's audience, stated again from its title (not from its SQL)."""
    if collection.title == "Community":
        return item.distribution in (Distribution.COMMUNITY, Distribution.CONNECTED, Distribution.ALL)
    if collection.title.startswith("Sharing group"):
        return (
            item.distribution is Distribution.SHARING_GROUP and collection.audience == f"group:{item.sharing_group_id}"
        )
    if collection.title.startswith("Organization"):
        return item.creator_org_id == reader.org.id and item.distribution is Distribution.ORGANIZATION
    return collection.title != "MITRE ATT&CK"  # no reference data in this test; "Everything" is everything


@pytest.mark.parametrize("seed", [1, 2])
def test_collections_serve_exactly_what_the_rules_allow(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    admins = [make_member(session, "admin") for _ in range(3)]
    group = make_group(session, admins[0].principal, [admins[1].org.id])
    members = [Member(m.org, m.user, principal_of(session, m.user), m.key) for m in admins]
    expected: dict[str, Shared] = {}
    for _ in range(30):
        creator = rng.choice(members)
        tlp = rng.choice([Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED])
        choices = ["organization", "community", "connected", "all"]
        if group in creator.principal.group_ids:
            choices.append(f"sharing-group:{group}")
        distribution = rng.choice(choices)
        obj = indicator(tlp=tlp)
        assert share(session, creator.principal, obj, distribution=distribution).stored_count == 1
        dist, group_id = Distribution.parse(distribution)
        expected[obj["id"]] = Shared(creator.org.id, tlp, dist, group_id)
    for reader in members:
        viewer = Viewer.member(reader.org.id, reader.principal.group_ids, bulk=True)
        for collection in taxii.list_collections(session, reader.principal):
            query, _ = taxii.parse_query([], allowed=taxii.OBJECT_PARAMS)
            page = taxii.get_objects(session, reader.principal, collection, query, None, secret=SECRET, manifest=True)
            served = {row.stix_id for row in page.rows}
            allowed = {
                sid
                for sid, item in expected.items()
                if may_see(viewer, item) and _audience_of(collection, item, reader)
            }
            assert served == allowed, (collection.title, reader.org.name)
