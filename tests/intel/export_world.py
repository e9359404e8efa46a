"""A small hub with every kind of value a detection export must keep or leave out (built through the services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.intel import service
from herdsec.intel.schemas import SightingIn
from herdsec.intel.stix import format_timestamp
from tests.factories import Member, make_member
from tests.intel_factories import indicator, share

SHA256 = "5f0c7e6b4a1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b"
LIVE = {
    "domain": ["listed.example", "c2-bad.xyz", "xn--bcngan-jxa6332d.vn"],
    "ipv4": ["91.243.44.12"],
    "ipv6": ["2a0d:5600:1::66"],
    "cidr": ["91.243.45.0/24"],
    "url": ["http://c2-bad.xyz/gate.php?id=1"],
    "sha256": [SHA256],
}
WARNINGLISTED = "google.com"
EXPIRED = ["91.243.44.13", "expired-c2.xyz"]
FALSE_POSITIVE = "fp-cdn.xyz"
REVOKED = "revoked-c2.xyz"
INVISIBLE = "amber-private.xyz"
RED = "red-only.xyz"
MALFORMED = 'bad";sid:1;.xyz'


def fresh() -> str:
    return format_timestamp(utcnow() - timedelta(minutes=5))


def live(value: str, pattern: str, **extra: object) -> dict[str, object]:
    return indicator(value, pattern=pattern, **{"valid_from": fresh(), **extra})


def dom(value: str, **extra: object) -> dict[str, object]:
    return live(value, f"[domain-name:value = '{value}']", **extra)


@dataclass
class World:
    sharer: Member
    reader: Member
    other: Member


def build(session: Session) -> World:
    sharer = make_member(session, "analyst", kind="bank", name="Ngân hàng Nguồn")
    reader = make_member(session, "analyst", name="Công ty Đọc")
    other = make_member(session, "analyst", name="Công ty Riêng")
    objects = [dom("listed.example"), dom("c2-bad.xyz"), dom("bộcôngan.vn")]
    objects.append(live("91.243.44.12", "[ipv4-addr:value = '91.243.44.12']"))
    objects.append(live("2a0d:5600:1::66", "[ipv6-addr:value = '2a0d:5600:1::66']"))
    objects.append(live("91.243.45.0/24", "[ipv4-addr:value ISSUBSET '91.243.45.0/24']"))
    objects.append(live("url", "[url:value = 'http://c2-bad.xyz/gate.php?id=1']"))
    objects.append(live("hash", f"[file:hashes.'SHA-256' = '{SHA256}']"))
    objects.append(dom(WARNINGLISTED))
    objects.append(dom(FALSE_POSITIVE))
    objects.append(dom(MALFORMED))
    old = "2020-01-01T00:00:00Z"
    stale = indicator(EXPIRED[0], valid_from=old)
    stale.update(created=old, modified=old)
    objects.append(stale)
    ten_days, yesterday = (format_timestamp(utcnow() - timedelta(days=d)) for d in (10, 1))
    objects.append(dom(EXPIRED[1], valid_from=ten_days, valid_until=yesterday))  # valid_until passed
    revoked = dom(REVOKED)
    objects.append(revoked)
    share(session, sharer.principal, *objects, tlp="green")
    share(session, sharer.principal, {**revoked, "modified": format_timestamp(utcnow()), "revoked": True})
    share(session, other.principal, dom(INVISIBLE), tlp="amber", distribution="organization")
    share(session, reader.principal, dom(RED), tlp="red", distribution="organization")
    service.record_sighting(session, reader.principal, SightingIn(value=FALSE_POSITIVE, kind="false-positive"))
    return World(sharer, reader, other)


def all_live() -> set[str]:
    return {v for values in LIVE.values() for v in values}
