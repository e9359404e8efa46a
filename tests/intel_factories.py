"""Builders of real STIX 2.1 content for the intel tests."""

from __future__ import annotations

import io
import itertools
import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from herdsec.identity import Principal
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel import service
from herdsec.intel.schemas import IngestStatus

_n = itertools.count(1)


def stamp(second: int = 0) -> str:
    return f"2026-11-01T10:00:{second:02d}.000Z"


def indicator(
    value: str = "",
    *,
    pattern: str | None = None,
    tlp: Tlp | None = None,
    modified: int = 0,
    obj_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    value = value or f"198.51.100.{next(_n) % 250 + 1}"
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": obj_id or f"indicator--{uuid.uuid4()}",
        "created": stamp(0),
        "modified": stamp(modified),
        "name": f"C2 {value}",
        "pattern": pattern or f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": stamp(0),
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP2_MARKINGS[tlp]]
    obj.update(extra)
    return obj


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def share(
    session: Session,
    actor: Principal,
    *objects: dict[str, Any],
    tlp: str | None = None,
    distribution: str | None = None,
) -> IngestStatus:
    body = io.BytesIO(json.dumps(bundle(*objects)).encode())
    return service.ingest_bundle(session, actor, body, tlp=tlp, distribution=distribution)


def sighting(of: str, count: int = 1, **extra: Any) -> dict[str, Any]:
    """A STIX sighting of the object ``of``."""
    obj: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": stamp(1),
        "modified": stamp(1),
        "sighting_of_ref": of,
        "count": count,
    }
    obj.update(extra)
    return obj
