"""Property test: a detection export holds exactly the values a bulk reader may see (never RED, never another
organization's private or group-only items), for random markings, distributions and sharing groups."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from herdsec.identity import viewer_for
from herdsec.identity.visibility import Distribution, Shared, Tlp
from herdsec.intel.exportable import exportable_values
from tests.factories import make_group, make_member, principal_of
from tests.intel.export_world import dom
from tests.intel_factories import share
from tests.test_visibility import expected

_n = itertools.count(1)
TLPS = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]
DISTRIBUTIONS = ["organization", "community", "connected", "all", "group"]
items = st.lists(
    st.tuples(st.sampled_from([0, 1, 2]), st.sampled_from(TLPS), st.sampled_from(DISTRIBUTIONS)),
    min_size=1,
    max_size=12,
)


@given(data=items)
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], phases=[Phase.generate]
)
def test_exports_hold_exactly_what_a_bulk_reader_may_see(session: Session, data: list[tuple[int, Tlp, str]]) -> None:
    # Each example adds its own organizations and values to the test's transaction (rolled back at the end).
    members = [make_member(session, "admin") for _ in range(3)]
    group = make_group(session, members[0].principal, [members[0].org.id, members[1].org.id])
    # A group member's principal must know its groups: built after the group exists.
    principals = [principal_of(session, m.user) for m in members]
    facts: dict[str, Shared] = {}
    for creator, tlp, distribution in data:
        if distribution == "group" and creator == 2:
            distribution = "community"  # only members of the group may address it
        name = f"prop-{next(_n)}-c2-herdsec.xyz"
        dist = f"sharing-group:{group}" if distribution == "group" else distribution
        share(session, principals[creator], dom(name), tlp=tlp.label, distribution=dist)
        facts[name] = Shared(
            creator_org_id=members[creator].org.id,
            tlp=tlp,
            distribution=Distribution.parse(dist)[0],
            sharing_group_id=group if distribution == "group" else None,
        )
    for principal in principals:
        viewer = viewer_for(principal, bulk=True)
        got = {v.value for v in exportable_values(session, principal, types=["domain"]) if v.value in facts}
        want = {name for name, item in facts.items() if expected(viewer, item)}
        assert got == want, (principal.org_id, got ^ want)
