"""The organization that holds public reference data (MITRE ATT&CK) in the store."""

from __future__ import annotations

from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import NotFound

REFERENCE_ORG = "MITRE ATT&CK"


def reference_org_ids(session: Session) -> set[int]:
    try:
        return {identity.find_org(session, REFERENCE_ORG).id}
    except NotFound:
        return set()
