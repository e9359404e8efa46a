"""Every module's tables, imported in one place for Alembic (add each new module's ``models`` here)."""

from herdsec.core import counters
from herdsec.identity import models as identity_models
from herdsec.intel import models as intel_models
from herdsec.intel.taxii import models as taxii_models

__all__ = ["counters", "identity_models", "intel_models", "taxii_models"]
