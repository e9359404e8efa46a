"""Federation: pull from and push to other hubs (TAXII 2.1) and MISP feeds, on an interval, safely."""

from herdsec.intel.federation.logic import format_duration, parse_duration
from herdsec.intel.federation.schemas import PeerIn, PeerOut, RunOut
from herdsec.intel.federation.service import add_peer, get_peer, list_peers, recent_runs, remove_peer, set_enabled
from herdsec.intel.federation.sync import run_due, run_peer, seconds_until_due

__all__ = [
    "PeerIn",
    "PeerOut",
    "RunOut",
    "add_peer",
    "format_duration",
    "get_peer",
    "list_peers",
    "parse_duration",
    "recent_runs",
    "remove_peer",
    "run_due",
    "run_peer",
    "seconds_until_due",
    "set_enabled",
]
