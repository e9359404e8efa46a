"""Every module's tables, imported in one place for Alembic (add each new module's ``models`` here)."""

from herdsec.identity import models as identity_models

__all__ = ["identity_models"]
