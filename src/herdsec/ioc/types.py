"""The vocabulary of observable value types and the value records the rest of the package passes around."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IocType(StrEnum):
    """Types of observable values the hub indexes, correlates, looks up and exports."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"  # an IPv4 or IPv6 network, "10.0.0.0/8", "2001:db8::/32"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    FILENAME = "filename"
    MUTEX = "mutex"
    REGKEY = "regkey"
    USER_AGENT = "user-agent"
    JA3 = "ja3"
    CVE = "cve"


@dataclass(frozen=True, slots=True)
class Value:
    """One observable value: its type, its normalised form (what is indexed and compared) and what was written.

    ``problem`` is set when the value is malformed for its type (e.g. a domain with a space): such a value is kept
    and flagged, never fatal.
    """

    type: IocType
    value: str
    raw: str
    problem: str | None = None
