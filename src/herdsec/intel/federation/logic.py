"""Pure rules of federation: vocabularies, durations, backoff and what may leave the hub."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from herdsec.core.errors import N_, InvalidInput
from herdsec.identity.visibility import Distribution, Tlp, onward_distribution


class PeerKind(StrEnum):
    TAXII = "taxii"
    MISP_FEED = "misp-feed"


class Direction(StrEnum):
    PULL = "pull"
    PUSH = "push"
    BOTH = "both"

    @property
    def pulls(self) -> bool:
        return self in (Direction.PULL, Direction.BOTH)

    @property
    def pushes(self) -> bool:
        return self in (Direction.PUSH, Direction.BOTH)


# What a push may send: TLP CLEAR or GREEN, distribution connected or all. Everything else never leaves
# (AMBER, AMBER+STRICT, RED, unknown markings; organization, community and sharing-group distribution).
PUSH_TLPS = (Tlp.CLEAR, Tlp.GREEN)
PUSH_DISTRIBUTIONS = (Distribution.CONNECTED, Distribution.ALL)
# What pulled objects are stored with: STIX carries no distribution, and what a peer sends us is at most
# "connected" (it stops here: members of this hub see it, it is never pushed on).
PULLED_DISTRIBUTION = onward_distribution(Distribution.CONNECTED)

MIN_INTERVAL = 10
MAX_INTERVAL = 7 * 24 * 3600
MAX_BACKOFF = 24 * 3600
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def may_push(tlp: Tlp, distribution: Distribution) -> bool:
    """Whether an object with these markings may be sent to a federated peer (the rule pushes add to the
    peer viewer of :mod:`herdsec.identity.visibility`)."""
    return tlp in PUSH_TLPS and distribution in PUSH_DISTRIBUTIONS


def parse_duration(text: str, field: str = "interval") -> int:
    """``30s``, ``5m``, ``1h``, ``2d`` or plain seconds, between 10 seconds and 7 days."""
    match = _DURATION_RE.match(text or "")
    if match is None:
        raise InvalidInput(N_("%(value)r is not a duration; write it like 30s, 5m, 1h or 1d"), where=field, value=text)
    seconds = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise InvalidInput(
            N_("the interval must be between %(low)s seconds and %(high)s days"),
            where=field,
            low=MIN_INTERVAL,
            high=MAX_INTERVAL // 86400,
        )
    return seconds


def format_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_name(name: str) -> str:
    text = name.strip()
    if not NAME_RE.match(text):
        raise InvalidInput(
            N_("peer names are 1-80 letters, digits, dots, dashes or underscores, starting with a letter or digit"),
            where="name",
        )
    return text


def backoff_seconds(interval: int, failures: int) -> int:
    """How long to wait after ``failures`` consecutive failed runs: the interval doubled per failure (so a
    broken peer is retried later and later), at most a day (or the interval, when that is longer)."""
    if failures <= 0:
        return interval
    doubled: int = interval << min(failures, 20)
    return min(doubled, max(MAX_BACKOFF, interval))


def next_attempt(now: datetime, interval: int, failures: int) -> datetime:
    return now + timedelta(seconds=backoff_seconds(interval, failures))


def is_due(next_at: datetime | None, now: datetime) -> bool:
    return next_at is None or next_at <= now
