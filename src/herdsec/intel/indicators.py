"""Turning plain values (a pasted list, a freetext extraction, a form) into STIX 2.1 indicators."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from herdsec.intel.stix import format_timestamp
from herdsec.ioc.types import IocType, Value

# The object path each value type is written with (the inverse of herdsec.ioc.sco.values_from_path).
PATHS: dict[IocType, str] = {
    IocType.IPV4: "ipv4-addr:value",
    IocType.IPV6: "ipv6-addr:value",
    IocType.DOMAIN: "domain-name:value",
    IocType.URL: "url:value",
    IocType.EMAIL: "email-addr:value",
    IocType.MD5: "file:hashes.MD5",
    IocType.SHA1: "file:hashes.'SHA-1'",
    IocType.SHA256: "file:hashes.'SHA-256'",
    IocType.SHA512: "file:hashes.'SHA-512'",
    IocType.FILENAME: "file:name",
    IocType.MUTEX: "mutex:name",
    IocType.REGKEY: "windows-registry-key:key",
    IocType.USER_AGENT: "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
}
NAMESPACE = uuid.UUID("5a0c3a43-7f21-4d6c-9a0f-8d3f3d0c2b11")  # HerdSec's namespace for derived ids


def quote(literal: str) -> str:
    """A STIX pattern string literal."""
    return "'" + literal.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_for(value: Value) -> str | None:
    if value.type is IocType.CIDR:
        network = "ipv6-addr:value" if ":" in value.value else "ipv4-addr:value"
        return f"[{network} ISSUBSET {quote(value.value)}]"
    path = PATHS.get(value.type)
    return None if path is None else f"[{path} = {quote(value.value)}]"


def derived_id(kind: str, org_uuid: str, value: Value) -> str:
    """The same value shared by the same organization always gets the same id (imports are idempotent)."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{org_uuid}|{value.type.value}|{value.value}')}"


def object_for(value: Value, org_uuid: str, now: datetime, labels: list[str] | None = None) -> dict[str, Any] | None:
    """An indicator for the value (a vulnerability object for a CVE); None for types no pattern expresses."""
    stamp = format_timestamp(now)
    common = {"spec_version": "2.1", "created": stamp, "modified": stamp, "created_by_ref": f"identity--{org_uuid}"}
    if value.type is IocType.CVE:
        return {
            "type": "vulnerability",
            "id": derived_id("vulnerability", org_uuid, value),
            "name": value.value,
            "external_references": [{"source_name": "cve", "external_id": value.value}],
            **common,
        }
    pattern = pattern_for(value)
    if pattern is None:
        return None
    indicator: dict[str, Any] = {
        "type": "indicator",
        "id": derived_id("indicator", org_uuid, value),
        "name": value.value,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
        "indicator_types": ["malicious-activity"],
        **common,
    }
    if labels:
        indicator["labels"] = labels
    return indicator
