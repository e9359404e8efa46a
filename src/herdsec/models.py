"""Every module's tables, imported in one place for Alembic (add each new module's ``models`` here)."""

from herdsec.core import counters, events
from herdsec.identity import models as identity_models
from herdsec.intel import models as intel_models
from herdsec.intel.webhooks import models as webhook_models

__all__ = ["counters", "events", "identity_models", "intel_models", "webhook_models"]
