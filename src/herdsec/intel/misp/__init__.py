"""MISP interoperability: import MISP event JSON, export events, publish and pull MISP feeds.

The mapping (MISP → STIX and back) is described in ``docs/misp.md``.
"""

from herdsec.intel.misp.exporter import export_event, export_events
from herdsec.intel.misp.feed import FeedWritten, pull_feed, write_feed
from herdsec.intel.misp.importer import import_events
from herdsec.intel.misp.schemas import FeedPullStatus, MispEventStatus, MispImportStatus, MispProblem

__all__ = [
    "FeedPullStatus",
    "FeedWritten",
    "MispEventStatus",
    "MispImportStatus",
    "MispProblem",
    "export_event",
    "export_events",
    "import_events",
    "pull_feed",
    "write_feed",
]
