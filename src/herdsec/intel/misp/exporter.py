"""STIX reports in the store → MISP event JSON (``{"Event": {...}}``), rebuilt from what the reader may see.

Reports imported from MISP give their event back (the ``x_misp`` property keeps MISP's fields: uuids, types,
values, categories, comments, tags, distribution). Reports shared as STIX become events too: each indexed value of
their indicators and observables becomes an attribute. Only objects the reader may see are included (the one
visibility filter, on every object, not just the report).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import N_, NotFound
from herdsec.core.text import ascii_digits
from herdsec.identity import Principal
from herdsec.identity.visibility import Distribution, Tlp
from herdsec.intel.access import visible_objects
from herdsec.intel.indicators import NAMESPACE
from herdsec.intel.misp.importer import EVENT_TAG
from herdsec.intel.misp.vocab import (
    DEFAULT_CATEGORY,
    HUB_DISTRIBUTION,
    HUB_TO_MISP,
    INHERIT,
    MISP_DISTRIBUTION,
    MISP_TYPES,
    TLP_COLOURS,
    TLP_TAG_OF,
    TLP_TAGS,
    as_dict,
    is_tlp_tag,
)
from herdsec.intel.models import ObjectTag, Observable, Sighting, StixObject
from herdsec.intel.sightings import visible_reports

CHUNK = 500
SIGHTINGS_PER_ATTRIBUTE = 100
SIGHTING_TYPES = {"sighting": "0", "false-positive": "1", "expiration": "2"}
ATTRIBUTE_TYPES = frozenset({"indicator", "vulnerability", "note"})


class _Row:
    """One visible object of a report."""

    __slots__ = ("data", "distribution", "group_id", "pk", "stix_id", "tlp", "type")

    def __init__(self, pk: int, stix_id: str, data: str, tlp: int, distribution: str, group_id: int | None) -> None:
        self.pk, self.stix_id, self.tlp = pk, stix_id, Tlp(tlp)
        self.data: dict[str, Any] = orjson.loads(data)
        self.type = self.data.get("type", "")
        self.distribution, self.group_id = Distribution(distribution), group_id


def export_events(
    session: Session,
    actor: Principal,
    *,
    since: datetime | None = None,
    types: Iterable[str] | None = None,
    extra: ColumnElement[bool] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every visible report as a MISP event (bulk: what exports may carry), oldest first. ``since`` keeps reports
    modified at or after it; ``types`` keeps only attributes of these MISP types. ``extra`` narrows further (the
    feed writer passes what may leave the hub)."""
    wanted = frozenset(types) if types else None
    where = _filters(actor, bulk=True, extra=extra)
    last = 0
    while True:
        query = (
            select(StixObject)
            .where(StixObject.type == "report", StixObject.current.is_(True), StixObject.id > last, *where)
            .order_by(StixObject.id)
            .limit(100)
        )
        if since is not None:
            query = query.where(StixObject.modified >= since)
        reports = list(session.scalars(query))
        if not reports:
            return
        for report in reports:
            yield _event(session, actor, report, where, wanted, api_sightings=extra is None)
        last = reports[-1].id


def export_event(session: Session, actor: Principal, event_uuid: str) -> dict[str, Any]:
    """One event by its MISP uuid (or a report's own uuid), if the actor may see it."""
    key = event_uuid.strip().lower()
    candidates = set(
        session.scalars(select(ObjectTag.stix_id).where(ObjectTag.kind == EVENT_TAG, ObjectTag.value == key))
    )
    candidates.add(f"report--{key}")
    where = _filters(actor, bulk=False)
    reports = list(
        session.scalars(
            select(StixObject)
            .where(StixObject.stix_id.in_(sorted(candidates)), StixObject.current.is_(True), *where)
            .order_by(StixObject.id.desc())
        )
    )
    if not reports:
        raise NotFound(N_("no MISP event %(uuid)s"), where="uuid", uuid=key[:60])
    own = [r for r in reports if r.creator_org_id == actor.org_id]
    return _event(session, actor, (own or reports)[0], where, None)


def _filters(actor: Principal, *, bulk: bool, extra: ColumnElement[bool] | None = None) -> list[ColumnElement[bool]]:
    where = [visible_objects(identity.viewer_for(actor, bulk=bulk))]
    if extra is not None:
        where.append(extra)
    return where


def _event(
    session: Session,
    actor: Principal,
    report: StixObject,
    where: list[ColumnElement[bool]],
    types: frozenset[str] | None,
    *,
    api_sightings: bool = True,
) -> dict[str, Any]:
    data = orjson.loads(report.data)
    misp = as_dict(data.get("x_misp"))
    rows = _members(session, data.get("object_refs") or [], where)
    values = _values(session, [r.pk for r in rows if "x_misp" not in r.data])
    sighted = [r.stix_id for r in rows if r.type in ATTRIBUTE_TYPES or "x_misp" in r.data]
    seen = _sightings(session, actor, sighted, where, api_reports=api_sightings)
    level = Tlp(report.tlp)
    event_reach = (report.distribution, report.sharing_group_id)
    org = identity.get_org(session, report.creator_org_id)
    tags = _tags(misp.get("tags", data.get("labels", [])), level, always=True)
    event: dict[str, Any] = {
        "uuid": misp.get("uuid") or report.stix_id.split("--", 1)[1],
        "info": data.get("name") or "",
        "date": str(misp.get("date") or data.get("created", "")[:10]),
        "timestamp": str(int(report.modified.timestamp())),
        "publish_timestamp": str(_seconds(data.get("published")) or int(report.modified.timestamp())),
        "published": bool(misp.get("published", True)),
        "analysis": str(misp.get("analysis", "2")),
        "threat_level_id": str(misp.get("threat_level_id", "4")),
        "distribution": str(HUB_DISTRIBUTION[Distribution(report.distribution)]),
        "Orgc": misp.get("Orgc") or {"name": org.name, "uuid": org.uuid},
        "Tag": [_tag(t) for t in tags],
    }
    if report.sharing_group_id is not None:
        event.update(_sharing_group(session, actor, report.sharing_group_id))
    if misp.get("Galaxy"):
        event["Galaxy"] = misp["Galaxy"]
    context = _Context(level, event_reach, types, values, seen)
    grouped = {ref for r in rows if _is_misp_object(r) for ref in r.data.get("object_refs", [])}
    by_id = {r.stix_id: r for r in rows}
    attributes = [a for r in rows if r.stix_id not in grouped for a in context.attributes(r)]
    objects = [context.misp_object(r, by_id, rows) for r in rows if _is_misp_object(r)]
    if attributes:
        event["Attribute"] = attributes
    if objects:
        event["Object"] = objects
    return {"Event": event}


def _is_misp_object(row: _Row) -> bool:
    return row.type == "grouping" and row.data.get("context") == "misp-object"


def _members(session: Session, refs: list[str], where: list[ColumnElement[bool]]) -> list[_Row]:
    rows: list[_Row] = []
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start : start + CHUNK]
        for pk, sid, data, tlp, dist, group in session.execute(
            select(
                StixObject.id,
                StixObject.stix_id,
                StixObject.data,
                StixObject.tlp,
                StixObject.distribution,
                StixObject.sharing_group_id,
            ).where(StixObject.stix_id.in_(chunk), StixObject.current.is_(True), *where)
        ):
            rows.append(_Row(pk, sid, data, tlp, dist, group))
    order = {ref: i for i, ref in enumerate(refs)}
    rows.sort(key=lambda r: order.get(r.stix_id, 0))
    return rows


def _values(session: Session, pks: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Indexed values of objects shared as plain STIX (those from MISP carry their attribute)."""
    found: dict[int, list[tuple[str, str]]] = {}
    for start in range(0, len(pks), CHUNK):
        for pk, kind, value in session.execute(
            select(Observable.object_id, Observable.type, Observable.value)
            .where(Observable.object_id.in_(pks[start : start + CHUNK]), Observable.problem.is_(None))
            .order_by(Observable.id)
        ):
            found.setdefault(pk, []).append((kind, value))
    return found


def _sightings(
    session: Session, actor: Principal, stix_ids: list[str], where: list[ColumnElement[bool]], *, api_reports: bool
) -> dict[str, list[dict[str, str]]]:
    """Sightings the reader may count, without who reported them (names are not exported): STIX sightings under the
    same filters as the exported objects (never RED in bulk; a feed's audience for feeds), and API reports, which
    carry no marking, only when ``api_reports`` (not in feeds: they fail closed)."""
    found: dict[str, list[dict[str, str]]] = {}
    for start in range(0, len(stix_ids), CHUNK):
        for sid, kind, last in session.execute(
            select(Sighting.stix_id, Sighting.kind, Sighting.last_seen)
            .where(
                Sighting.stix_id.in_(stix_ids[start : start + CHUNK]),
                visible_reports(actor, objects=where, api_reports=api_reports),
            )
            .order_by(Sighting.id)
        ):
            items = found.setdefault(sid, [])
            if len(items) < SIGHTINGS_PER_ATTRIBUTE:
                items.append({"type": SIGHTING_TYPES.get(kind, "0"), "date_sighting": str(int(last.timestamp()))})
    return found


def _sharing_group(session: Session, actor: Principal, group_id: int) -> dict[str, Any]:
    try:
        group = identity.get_group(session, actor, group_id)
    except NotFound:
        return {"sharing_group_id": str(group_id)}
    return {"sharing_group_id": str(group.id), "SharingGroup": {"uuid": group.uuid, "name": group.name}}


def _tags(names: object, level: Tlp, *, always: bool) -> list[str]:
    """Tag names with the TLP tag of the stored level (the original spelling kept, ``tlp:white`` stays)."""
    names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
    out = [n for n in names if not is_tlp_tag(n)]
    if level is Tlp.UNKNOWN:
        return out
    same = [n for n in names if TLP_TAGS.get(n.strip().lower()) is level]
    if same or always:
        out.append(same[0] if same else TLP_TAG_OF[level])
    return out


def _tag(name: str) -> dict[str, Any]:
    tag: dict[str, Any] = {"name": name}
    level = TLP_TAGS.get(name.lower())
    if level is not None:
        tag["colour"] = TLP_COLOURS[level]
    return tag


def _seconds(stamp: object) -> int | None:
    from herdsec.intel.stix import parse_timestamp

    moment = parse_timestamp(stamp)
    return int(moment.timestamp()) if moment else None


class _Context:
    """Turning one event's rows into MISP attributes and objects."""

    def __init__(
        self,
        level: Tlp,
        reach: tuple[str, int | None],
        types: frozenset[str] | None,
        values: dict[int, list[tuple[str, str]]],
        sightings: dict[str, list[dict[str, str]]],
    ) -> None:
        self.level, self.reach, self.types = level, reach, types
        self.values, self.sightings = values, sightings

    def _distribution(self, row: _Row, original: object) -> str:
        stored = (row.distribution.value, row.group_id)
        if ascii_digits(str(original)):
            number = int(original)  # type: ignore[call-overload]
            if number == INHERIT and stored == self.reach:
                return str(INHERIT)
            if number in MISP_DISTRIBUTION and MISP_DISTRIBUTION[number] is row.distribution:
                return str(number)
        return str(INHERIT) if stored == self.reach else str(HUB_DISTRIBUTION[row.distribution])

    def _common(self, row: _Row, misp: dict[str, Any]) -> dict[str, Any]:
        tags = _tags(misp.get("tags", row.data.get("labels", [])), row.tlp, always=row.tlp is not self.level)
        out: dict[str, Any] = {
            "distribution": self._distribution(row, misp.get("distribution")),
            "timestamp": str(misp.get("timestamp") or _seconds(row.data.get("modified")) or 0),
        }
        if tags:
            out["Tag"] = [_tag(t) for t in tags]
        if row.stix_id in self.sightings:
            out["Sighting"] = self.sightings[row.stix_id]
        return out

    def attributes(self, row: _Row) -> list[dict[str, Any]]:
        misp = row.data.get("x_misp")
        if isinstance(misp, dict) and "type" in misp and "value" in misp:
            return self._keep([self._from_misp(row, misp)])
        if row.type == "note":
            content = row.data.get("content")
            return self._keep([self._native(row, "text", content, None)]) if isinstance(content, str) else []
        values = self.values.get(row.pk, [])
        return self._keep([self._native(row, HUB_TO_MISP.get(kind, "text"), value, kind) for kind, value in values])

    def _keep(self, attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [a for a in attributes if self.types is None or a["type"] in self.types]

    def _from_misp(self, row: _Row, misp: dict[str, Any]) -> dict[str, Any]:
        misp_type, comment = str(misp["type"]), str(misp.get("comment", ""))
        if misp_type not in MISP_TYPES:  # MISP refuses types it does not know: text, with the type in the comment
            comment = f"(type {misp_type}) {comment}".strip()
            misp_type = "text"
        attribute = {
            "uuid": misp.get("uuid") or row.stix_id.split("--", 1)[1],
            "type": misp_type,
            "category": misp.get("category") or DEFAULT_CATEGORY.get(misp_type, "Other"),
            "value": str(misp["value"]),
            "to_ids": bool(misp.get("to_ids", False)),
            "comment": comment,
            **self._common(row, misp),
        }
        for key in ("object_relation", "first_seen", "last_seen", "disable_correlation"):
            if key in misp:
                attribute[key] = misp[key]
        return attribute

    def _native(self, row: _Row, misp_type: str, value: Any, hub_type: str | None) -> dict[str, Any]:
        single = hub_type is None or len(self.values.get(row.pk, [])) == 1
        own = (
            row.stix_id.split("--", 1)[1] if single else str(uuid.uuid5(NAMESPACE, f"{row.stix_id}|{hub_type}|{value}"))
        )
        description = row.data.get("description")
        return {
            "uuid": own,
            "type": misp_type,
            "category": DEFAULT_CATEGORY.get(misp_type, "Other"),
            "value": str(value),
            "to_ids": row.type == "indicator",
            "comment": description[:1000] if isinstance(description, str) else "",
            **self._common(row, {}),
        }

    def misp_object(self, row: _Row, by_id: dict[str, _Row], rows: list[_Row]) -> dict[str, Any]:
        misp: dict[str, Any] = as_dict(row.data.get("x_misp"))
        obj_uuid = misp.get("uuid") or row.stix_id.split("--", 1)[1]
        members = [by_id[ref] for ref in row.data.get("object_refs", []) if ref in by_id]
        obj: dict[str, Any] = {
            "uuid": obj_uuid,
            "name": misp.get("name") or row.data.get("name") or "object",
            "meta-category": misp.get("meta-category", "misc"),
            "description": misp.get("description", ""),
            "template_uuid": misp.get("template_uuid", ""),
            "template_version": str(misp.get("template_version", "1")),
            "comment": misp.get("comment", ""),
            "distribution": self._distribution(row, misp.get("distribution")),
            "timestamp": str(misp.get("timestamp") or _seconds(row.data.get("modified")) or 0),
            "Attribute": [a for member in members for a in self.attributes(member)],
        }
        references = [
            self._reference(r, obj_uuid, by_id)
            for r in rows
            if r.type == "relationship" and r.data.get("source_ref") == row.stix_id
        ]
        references = [r for r in references if r is not None]
        if references:
            obj["ObjectReference"] = references
        return obj

    def _reference(self, row: _Row, obj_uuid: str, by_id: dict[str, _Row]) -> dict[str, Any] | None:
        target = by_id.get(row.data.get("target_ref", ""))
        if target is None:
            return None
        target_misp = as_dict(target.data.get("x_misp"))
        misp = as_dict(row.data.get("x_misp"))
        reference = {
            "object_uuid": obj_uuid,
            "referenced_uuid": target_misp.get("uuid") or target.stix_id.split("--", 1)[1],
            "relationship_type": row.data.get("relationship_type", "related-to"),
            "comment": row.data.get("description", ""),
            "timestamp": str(_seconds(row.data.get("modified")) or 0),
        }
        if misp.get("uuid"):
            reference["uuid"] = misp["uuid"]
        return reference
