"""Pure rules of the TAXII 2.1 server: media types, collection ids, query parameters and the signed ``next`` cursor.

Nothing here touches a database, HTTP framework or clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from herdsec.core.errors import N_, InvalidInput
from herdsec.core.text import ascii_digits
from herdsec.intel.stix import format_timestamp, parse_timestamp

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 1000
# Collection ids are uuid5 names under this namespace: stable across restarts, different per audience.
NAMESPACE = uuid.UUID("4f1c7b2e-5d0a-5c39-9a8e-2b6f0c1d7e11")
VERSION_KEYWORDS = ("last", "first", "all")
MAX_MATCH_VALUES = 500


def collection_id(audience: str) -> str:
    """The stable id of the collection of one audience (``community``, ``group:<uuid>``, ``org:<uuid>``, …)."""
    return str(uuid.uuid5(NAMESPACE, f"herdsec-taxii:{audience}"))


# --- media types -------------------------------------------------------------------------------------------------


def _media_ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    ranges = []
    for part in header.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        options = {}
        for param in params:
            name, _sep, value = param.partition("=")
            options[name.strip().lower()] = value.strip().strip('"').lower()
        if kind:
            ranges.append((kind.lower(), options))
    return ranges


def _is_21(kind: str, options: Mapping[str, str], base: str, *, versionless: bool = True) -> bool:
    if kind != base:
        return False
    version = options.get("version")
    return version == "2.1" or (version is None and versionless)


def acceptable(header: str | None, *, stix: bool = False) -> bool:
    """Whether an ``Accept`` header admits our answer: TAXII 2.1 (with or without the version parameter),
    ``*/*`` and ``application/*``, and for object reads also STIX 2.1. A range with ``q=0`` refuses."""
    if header is None or not header.strip():
        return True
    for kind, options in _media_ranges(header):
        if options.get("q") in {"0", "0.0", "0.00", "0.000"}:
            continue
        if kind in {"*/*", "application/*"} or _is_21(kind, options, "application/taxii+json"):
            return True
        if stix and _is_21(kind, options, "application/stix+json"):
            return True
    return False


def content_type_ok(header: str | None) -> bool:
    """A POST body must be a TAXII 2.1 envelope (``application/taxii+json``, version 2.1 or none)."""
    if not header:
        return False
    ranges = _media_ranges(header)
    return len(ranges) == 1 and _is_21(*ranges[0], "application/taxii+json")


def error_body(status: int, title: str, description: str, where: str | None = None) -> dict[str, Any]:
    """A TAXII 2.1 error message (section 3.6.1)."""
    body: dict[str, Any] = {"title": title, "description": description, "http_status": str(status)}
    if where:
        body["details"] = {"where": where}
    return body


# --- query parameters --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """The filters of one TAXII read (section 3.4), as given, plus where the page starts."""

    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)  # keywords and canonical timestamps
    spec_versions: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    after_seq: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def version_times(self) -> list[datetime]:
        return [t for v in self.versions if v not in VERSION_KEYWORDS and (t := parse_timestamp(v)) is not None]

    def digest(self, scope: str) -> str:
        """What a ``next`` cursor is bound to: the endpoint and every filter (not the limit or the position)."""
        text = "\x1f".join(
            [
                scope,
                format_timestamp(self.added_after) if self.added_after else "",
                ",".join(self.ids),
                ",".join(self.types),
                ",".join(self.versions),
                ",".join(self.spec_versions),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _values(raw: str, where: str) -> tuple[str, ...]:
    values = tuple(sorted({v.strip() for v in raw.split(",") if v.strip()}))
    if not values:
        raise InvalidInput(N_("%(name)s needs at least one value"), where=where, name=where)
    if len(values) > MAX_MATCH_VALUES:
        raise InvalidInput(N_("at most %(max)d values per filter"), where=where, max=MAX_MATCH_VALUES)
    return values


def _timestamp(raw: str, where: str) -> datetime:
    moment = parse_timestamp(raw.strip())
    if moment is None:
        raise InvalidInput(
            N_("%(value)r is not a timestamp like 2026-11-01T10:00:00.000Z"), where=where, value=raw.strip()[:60]
        )
    return moment


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not ascii_digits(text) or int(text) < 1:
        raise InvalidInput(N_("limit must be a whole number of at least 1"), where="limit")
    return min(int(text), MAX_LIMIT)


def parse_query(
    params: Sequence[tuple[str, str]], *, allowed: frozenset[str], default_version: str = "last"
) -> tuple[Query, str | None]:
    """The filters of a request (``allowed`` names the parameters this endpoint takes) and its ``next`` token.

    Unknown parameters are refused, so that a misspelt filter never silently returns everything."""
    seen: dict[str, str] = {}
    for name, value in params:
        if name not in allowed:
            raise InvalidInput(N_("this endpoint takes no parameter %(name)s"), where=name[:60], name=name[:60])
        if name in seen:
            raise InvalidInput(N_("%(name)s is given more than once"), where=name, name=name)
        seen[name] = value
    versions = _values(seen["match[version]"], "match[version]") if "match[version]" in seen else (default_version,)
    canonical = []
    for version in versions:
        if version in VERSION_KEYWORDS:
            canonical.append(version)
        else:
            canonical.append(format_timestamp(_timestamp(version, "match[version]")))
    query = Query(
        added_after=_timestamp(seen["added_after"], "added_after") if "added_after" in seen else None,
        ids=_values(seen["match[id]"], "match[id]") if "match[id]" in seen else (),
        types=_values(seen["match[type]"], "match[type]") if "match[type]" in seen else (),
        versions=tuple(sorted(set(canonical))),
        spec_versions=_values(seen["match[spec_version]"], "match[spec_version]")
        if "match[spec_version]" in seen
        else (),
        limit=_limit(seen.get("limit")),
    )
    return query, seen.get("next")


# --- the signed cursor -------------------------------------------------------------------------------------------


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), b"herdsec-taxii-next\x00" + payload, hashlib.sha256).digest()[:12]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_cursor(secret: str, seq: int, digest: str) -> str:
    """A stateless ``next``: the last position served and the filters it belongs to, signed with the hub's key."""
    payload = f"{seq}.{digest}".encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def read_cursor(secret: str, token: str, digest: str) -> int:
    """The position a ``next`` stands for; one this hub never issued, or issued for other filters, is refused."""
    refused = InvalidInput(
        N_("this 'next' was not issued by this server for this request"), where="next", value=token[:40]
    )
    body, _sep, mac = token.partition(".")
    try:
        payload = _unb64(body)
        good = hmac.compare_digest(_unb64(mac), _mac(secret, payload))
        seq_text, _sep, bound = payload.decode().partition(".")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    if not good or bound != digest or not ascii_digits(seq_text):
        raise refused
    return int(seq_text)
