"""Build a fresh demo hub: each module contributes its seed, in dependency order."""

from __future__ import annotations

from herdsec.core.db import Database
from herdsec.identity.demo import DEMO_PASSWORD, DemoLogin
from herdsec.identity.demo import seed as seed_identity
from herdsec.intel.demo import seed as seed_intel
from herdsec.skills.demo import seed as seed_skills

__all__ = ["DEMO_PASSWORD", "DemoLogin", "seed"]


def seed(database: Database) -> list[DemoLogin]:
    """Fill an empty, migrated database with the demo; returns the logins to print."""
    with database.transaction() as session:
        logins = seed_identity(session)
        seed_intel(session)
        seed_skills(session)
    return logins
