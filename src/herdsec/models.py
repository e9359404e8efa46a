"""Every module's tables, imported in one place for Alembic (add each new module's ``models`` here)."""

from herdsec.core import counters
from herdsec.identity import models as identity_models
from herdsec.intel import models as intel_models
from herdsec.intel.federation import models as federation_models
from herdsec.intel.misp import models as misp_models
from herdsec.intel.taxii import models as taxii_models
from herdsec.intel.webhooks import models as webhook_models
from herdsec.skills import models as skills_models

__all__ = [
    "counters",
    "federation_models",
    "identity_models",
    "intel_models",
    "misp_models",
    "skills_models",
    "taxii_models",
    "webhook_models",
]
