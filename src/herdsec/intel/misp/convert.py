"""MISP event → STIX 2.1 objects (pure: no session; the importer resolves sharing groups and stores).

An event becomes a ``report`` whose ``object_refs`` name everything it holds; IDS attributes become
``indicator`` objects (composite values split into an ``AND`` of comparisons), other attributes cyber-observables
(or a ``vulnerability``, or a ``note`` for text), MISP objects ``grouping`` objects of their attributes, object
references ``relationship`` objects and sightings ``sighting`` objects. Tags become labels (``tlp:*`` tags TLP
markings), ATT&CK galaxy clusters and galaxy tags technique references. The MISP fields STIX has no place for
are kept in one ``x_misp`` property (with MISP's own field names), so that the export gives the event back. Ids
derive from the MISP uuids and the importing organization, so importing the same event again changes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, NoReturn, cast

from herdsec.core.text import ascii_digits
from herdsec.identity.visibility import TLP2_MARKINGS, Distribution, Tlp
from herdsec.intel import stix
from herdsec.intel.indicators import NAMESPACE
from herdsec.intel.misp.schemas import MispProblem
from herdsec.intel.misp.vocab import (
    COMPOSITE,
    INHERIT,
    MISP_DISTRIBUTION,
    MISP_TYPES,
    PATTERN_TYPES,
    TEXT_TYPES,
    UUID_RE,
    BadValue,
    Reach,
    as_dict,
    as_list,
    indicator_of,
    is_tlp_tag,
    observable_of,
    parse_distribution,
    split_composite,
    tag_names,
    techniques_of_galaxies,
    techniques_of_tags,
    tlp_of_tags,
)
from herdsec.intel.prepare import Built
from herdsec.intel.stix import MAX_STRING, format_timestamp
from herdsec.ioc.pattern import MAX_PATTERN_LENGTH

_NAMESPACE_BYTES = NAMESPACE.bytes
_EPOCH_DAY = date(1970, 1, 1)
GroupResolver = Callable[[str | None, str | None], int | None]  # (uuid, name) → hub sharing group id
OPTIONAL_FIELDS = (
    "category",
    "comment",
    "distribution",
    "object_relation",
    "disable_correlation",
    "first_seen",
    "last_seen",
)
SIGHTING_KINDS = {0: "sighting", 1: "false-positive", 2: "expiration"}
TRUE = (True, 1, "1", "true", "True")
_new = tuple.__new__  # a named tuple made from a tuple, as its generated __new__ does, one call less
BUILT = Built()  # an object built from checked parts whose values the preparer reads from the object itself


class Item(NamedTuple):
    """One STIX object made from the event, with its reach and where in the event it came from."""

    obj: dict[str, Any]
    reach: Reach
    where: str
    uuid: str | None
    built: Built | None = None  # what the preparer need not work out again (only for objects built from checked parts)


@dataclass(slots=True)
class _Scope:
    """What an attribute inherits from its event or object."""

    reach: Reach
    tlp: Tlp | None
    object_uuid: str | None = None


@dataclass
class EventConverter:
    org_uuid: str
    resolve_group: GroupResolver
    cap: Reach | None = None  # the importer's own limit on how far the event may go
    default_reach: Reach = field(default_factory=lambda: Reach(Distribution.COMMUNITY))
    failures: list[MispProblem] = field(default_factory=list)
    notices: list[MispProblem] = field(default_factory=list)
    sighting_kinds: dict[str, str] = field(default_factory=dict)  # sighting id → kind other than "sighting"
    attribute_count: int = 0
    event_uuid: str | None = None
    info: str | None = None
    report_id: str | None = None
    _ids: dict[str, str] = field(default_factory=dict)  # MISP uuid → STIX id
    _refs: list[str] = field(default_factory=list)  # only ids made by _id: the report is trusted on one of them
    _references: list[tuple[str, str, Reach, Any]] = field(default_factory=list)
    _hasher: Any = None  # SHA-1 of the namespace and the id prefix, copied for each id
    _own: str = field(init=False, default="")  # the importing organization's identity (creator of record)

    def __post_init__(self) -> None:
        self._own = f"identity--{self.org_uuid}"

    # --- the event --------------------------------------------------------------------------------------------

    def convert(self, header: dict[str, Any], attributes: Iterator[Any], objects: Iterator[Any]) -> Iterator[Item]:
        """The STIX objects of one event; problems are collected in ``failures`` and ``notices``."""
        info = header.get("info")
        self.info = info if isinstance(info, str) else None  # named in the status even when the event is refused
        event_uuid = header.get("uuid")
        if event_uuid is None:
            seed = f"{header.get('info')}|{header.get('date')}|{header.get('timestamp')}"
            event_uuid = str(uuid.uuid5(NAMESPACE, seed))  # stable across re-imports of the same file
            self.notices.append(
                MispProblem(where="Event", uuid=event_uuid, reason="the event has no uuid; one was derived")
            )
        if not isinstance(event_uuid, str) or not UUID_RE.match(event_uuid):
            raise BadValue(f"the event's uuid {str(event_uuid)[:60]!r} is not a UUID")
        self.event_uuid = event_uuid.lower()
        self.report_id = self._id("report", self.event_uuid)
        stamp = _timestamp(header.get("timestamp")) or datetime.now(UTC).replace(microsecond=0)
        tags = tag_names(header)
        scope = _Scope(self._event_reach(header), tlp_of_tags(tags))
        for index, attribute in enumerate(attributes):
            yield from self._attribute(attribute, f"Attribute[{index}]", scope, stamp)
        for index, obj in enumerate(objects):
            yield from self._object(obj, f"Object[{index}]", scope, stamp)
        yield from self._relationships(stamp)
        report = self._report(header, tags, scope, stamp)
        yield Item(report, scope.reach, "Event", self.event_uuid, _checked_report(report))

    def _id(self, stix_type: str, misp_uuid: str) -> str:
        """The STIX id of a MISP element: ``uuid5(NAMESPACE, "misp|<organization uuid>|<element uuid>")``."""
        if self._hasher is None:
            self._hasher = hashlib.sha1(_NAMESPACE_BYTES + f"misp|{self.org_uuid}|".encode(), usedforsecurity=False)
        hasher = self._hasher.copy()
        hasher.update(misp_uuid.lower().encode())
        return f"{stix_type}--{_uuid5_text(hasher.hexdigest())}"

    def _event_reach(self, header: dict[str, Any]) -> Reach:
        raw = header.get("distribution")
        reach = self.default_reach
        if raw is not None:
            try:
                number = parse_distribution(raw, allow_inherit=True)
            except BadValue as exc:
                self.notices.append(MispProblem(where="Event", uuid=self.event_uuid, reason=f"{exc}; default used"))
                number = INHERIT
            if number != INHERIT:
                reach = self._reach(number, header, "Event", self.event_uuid)
        return reach.narrowest(self.cap) if self.cap else reach

    def _reach(self, number: int, element: dict[str, Any], where: str, misp_uuid: str | None) -> Reach:
        distribution = MISP_DISTRIBUTION[number]
        if distribution is not Distribution.SHARING_GROUP:
            return Reach(distribution)
        group = as_dict(element.get("SharingGroup"))
        group_uuid, name = group.get("uuid"), group.get("name")
        found = self.resolve_group(
            group_uuid if isinstance(group_uuid, str) else None, name if isinstance(name, str) else None
        )
        if found is None:
            label = name or group_uuid or element.get("sharing_group_id") or "?"
            self.notices.append(
                MispProblem(
                    where=where,
                    uuid=misp_uuid,
                    reason=f"sharing group {str(label)[:100]!r} is not a hub sharing group your organization belongs "
                    "to (matched by uuid or name); stored for your organization only",
                )
            )
            return Reach(Distribution.ORGANIZATION)
        return Reach(Distribution.SHARING_GROUP, found)

    def _report(self, header: dict[str, Any], tags: list[str], scope: _Scope, stamp: datetime) -> dict[str, Any]:
        assert self.report_id is not None
        assert self.event_uuid is not None
        created = min(_date(header.get("date")) or stamp, stamp)
        published = _timestamp(header.get("publish_timestamp")) or stamp
        techniques = sorted(set(techniques_of_tags(tags)) | set(techniques_of_galaxies(header.get("Galaxy"))))
        orgc = header.get("Orgc") if isinstance(header.get("Orgc"), dict) else {}
        report: dict[str, Any] = {
            "type": "report",
            "spec_version": "2.1",
            "id": self.report_id,
            "created": _fmt(created),
            "modified": _fmt(stamp),
            "name": (self.info or f"MISP event {self.event_uuid}")[:1000],
            "published": _fmt(published),
            "report_types": ["threat-report"],
            "object_refs": self._refs or [f"identity--{self.org_uuid}"],
        }
        misp: dict[str, Any] = {"uuid": self.event_uuid}
        if tags:
            misp["tags"] = tags
        _put_labels(report, tags)
        _put_marking(report, scope.tlp)
        if techniques:
            report["external_references"] = [{"source_name": "mitre-attack", "external_id": t} for t in techniques]
        for key in ("date", "threat_level_id", "analysis", "published", "distribution"):
            if isinstance(header.get(key), str | int | bool):
                misp[key] = header[key]
        if isinstance(orgc, dict) and (orgc.get("name") or orgc.get("uuid")):
            misp["Orgc"] = {k: str(orgc[k]) for k in ("name", "uuid") if orgc.get(k)}
        galaxies = _galaxies(header.get("Galaxy"))
        if galaxies:
            misp["Galaxy"] = galaxies
        group = header.get("SharingGroup")
        if isinstance(group, dict):
            misp["SharingGroup"] = {k: str(group[k]) for k in ("uuid", "name") if group.get(k)}
        report["x_misp"] = misp
        report["created_by_ref"] = self._own  # the sharing member is the creator of record
        return report

    # --- attributes -------------------------------------------------------------------------------------------

    def _fail(self, where: str, misp_uuid: str | None, reason: str) -> None:
        self.failures.append(MispProblem(where=where, uuid=misp_uuid, reason=reason))

    def _attribute(self, attr: Any, where: str, scope: _Scope, parent_stamp: datetime) -> list[Item]:
        """The items of one attribute (its object, then its sightings): a list, not a generator (this runs once per
        attribute)."""
        self.attribute_count += 1
        if not isinstance(attr, dict):
            self._fail(where, None, "an attribute must be a JSON object")
            return []
        misp_type, value = attr.get("type"), attr.get("value")
        if type(value) is not str and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        attr_uuid = attr.get("uuid")
        if not isinstance(attr_uuid, str) or not UUID_RE.match(attr_uuid):
            if attr_uuid is not None:
                self._fail(where, None, f"uuid {str(attr_uuid)[:60]!r} is not a UUID")
                return []
            seed = f"{self.event_uuid}|{misp_type}|{value}|{scope.object_uuid}"
            attr_uuid = str(uuid.uuid5(NAMESPACE, seed))  # stable across re-imports
        attr_uuid = attr_uuid.lower()
        if not isinstance(misp_type, str) or not misp_type:
            self._fail(where, attr_uuid, "the attribute has no type")
            return []
        if not isinstance(value, str) or not value.strip():
            self._fail(where, attr_uuid, "the attribute has no value")
            return []
        deleted = attr.get("deleted")
        if deleted is not None and deleted in TRUE:
            return []  # soft-deleted in MISP: not shared
        try:
            reach = self._attribute_reach(attr, scope, where, attr_uuid)
            made, built = self._attribute_object(attr, attr_uuid, misp_type, value, scope, where, parent_stamp)
        except BadValue as exc:
            self._fail(where, attr_uuid, str(exc))
            return []
        self._ids[attr_uuid] = made["id"]
        self._refs.append(made["id"])
        item = _new(Item, (made, reach, where, attr_uuid, built))  # Item(...) without its Python-level __new__
        if attr.get("Sighting"):
            return [item, *self._sightings(attr, made, reach, where)]
        return [item]

    def _attribute_reach(self, attr: dict[str, Any], scope: _Scope, where: str, attr_uuid: str) -> Reach:
        raw = attr.get("distribution")
        if raw is None or raw == "5":  # inherit (MISP writes it on most attributes)
            return scope.reach
        number = parse_distribution(raw, allow_inherit=True)
        if number == INHERIT:
            return scope.reach
        return self._reach(number, attr, where, attr_uuid).narrowest(scope.reach)

    def _attribute_object(
        self,
        attr: dict[str, Any],
        attr_uuid: str,
        misp_type: str,
        value: str,
        scope: _Scope,
        where: str,
        parent_stamp: datetime,
    ) -> tuple[dict[str, Any], Built | None]:
        """The STIX object of an attribute and what the preparer may take as known (None: check it all)."""
        get = attr.get
        tags = tag_names(attr) if get("Tag") else []
        seconds = _seconds(get("timestamp"))
        if seconds is None:
            seconds = int(parent_stamp.timestamp())
        to_ids = get("to_ids")
        to_ids = to_ids is True or (to_ids is not None and to_ids in TRUE)
        # Only what differs from the defaults: every property costs at validation and in storage. The timestamp
        # is the object's "modified" (kept here only for observables, which have none).
        misp: dict[str, Any] = {"uuid": attr_uuid, "type": misp_type, "value": value}
        if to_ids:
            misp["to_ids"] = True
        if tags:
            misp["tags"] = tags
        for key in OPTIONAL_FIELDS:
            found = get(key)
            if found is not None and found != "" and isinstance(found, str | int):  # bool is an int
                misp[key] = found
        _check_texts(misp)  # every outside string the object holds is in x_misp (the value, type, tags, comment…)
        level = tlp_of_tags(tags) or scope.tlp if tags else scope.tlp
        galaxies = get("Galaxy")
        techniques = (
            sorted(set(techniques_of_tags(tags)) | set(techniques_of_galaxies(galaxies))) if tags or galaxies else []
        )
        stamp_text = _second(seconds)  # formatted once: created, modified and usually valid_from
        made: dict[str, Any] | None = None
        pairs: tuple[tuple[str, str], ...] | None = None
        trusted = True  # False: the preparer checks the object as it checks any (see prepare.Built)
        if misp_type in COMPOSITE:
            split_composite(misp_type, value)  # a broken composite value is refused whatever the flags
        if to_ids:
            pattern_type = PATTERN_TYPES.get(misp_type)
            indicator = None if pattern_type else indicator_of(misp_type, value)
            pattern = value if pattern_type else None if indicator is None else indicator[0]
            if pattern is not None:
                # A pattern from the event itself (stix2-pattern), or one too long to keep: parsed and checked.
                if indicator is None or len(pattern) > MAX_PATTERN_LENGTH:
                    trusted = False
                else:
                    pairs = indicator[1]
                first_raw = get("first_seen")
                first_seen = _seen(first_raw) if first_raw else None
                if first_seen is not None and first_seen.year < 1000:  # STIX timestamps have four-digit years
                    raise BadValue(f"first_seen {str(attr['first_seen'])[:40]!r} is before the year 1000")
                made = {
                    "type": "indicator",
                    "id": self._id("indicator", attr_uuid),
                    "spec_version": "2.1",
                    "created": stamp_text,
                    "modified": stamp_text,
                    "name": value[:300],
                    "pattern": pattern,
                    "pattern_type": pattern_type or "stix",
                    "valid_from": stamp_text if first_seen is None else _fmt(first_seen),
                    "indicator_types": ["malicious-activity"],
                }
                last_raw = get("last_seen")
                until = _seen(last_raw) if last_raw else None
                if until is not None and until > (first_seen or datetime.fromtimestamp(seconds, UTC)):
                    made["valid_until"] = _fmt(until)
        if made is None and misp_type == "vulnerability":
            made = {
                "type": "vulnerability",
                "id": self._id("vulnerability", attr_uuid),
                "spec_version": "2.1",
                "created": stamp_text,
                "modified": stamp_text,
                "name": value.strip()[:300],
                "external_references": [{"source_name": "cve", "external_id": value.strip()}],
            }
        if made is None and misp_type not in TEXT_TYPES:
            sco = observable_of(misp_type, value)
            if sco is not None:
                made = {**sco, "id": self._id(sco["type"], attr_uuid), "spec_version": "2.1"}
                misp["timestamp"] = seconds
        if made is None:
            if misp_type not in MISP_TYPES:
                self.notices.append(
                    MispProblem(
                        where=where, uuid=attr_uuid, reason=f"unknown attribute type {misp_type[:80]!r}: kept as text"
                    )
                )
            assert self.report_id is not None
            made = {
                "type": "note",
                "id": self._id("note", attr_uuid),
                "spec_version": "2.1",
                "created": stamp_text,
                "modified": stamp_text,
                "abstract": misp_type[:300],
                "content": value,
                "object_refs": [self.report_id],
            }
        if made["type"] in ("indicator", "vulnerability", "note"):
            if tags:
                _put_labels(made, tags)
            if techniques:
                made.setdefault("external_references", []).extend(
                    {"source_name": "mitre-attack", "external_id": t} for t in techniques
                )
            if made["type"] == "indicator" and misp.get("comment"):
                made["description"] = misp["comment"]
        _put_marking(made, level)
        made["x_misp"] = misp
        if not trusted:
            return made, None
        if "created" in made:  # an SDO: created and modified are the attribute's timestamp
            made["created_by_ref"] = self._own
            return made, _new(Built, (pairs, seconds))
        return made, BUILT

    def _sightings(self, attr: dict[str, Any], target: dict[str, Any], reach: Reach, where: str) -> Iterator[Item]:
        found = attr.get("Sighting")
        if not isinstance(found, list):
            return
        for index, sighting in enumerate(found):
            here = f"{where}.Sighting[{index}]"
            if not isinstance(sighting, dict):
                self._fail(here, None, "a sighting must be a JSON object")
                continue
            seen = _timestamp(sighting.get("date_sighting"))
            kind_raw = str(sighting.get("type", "0"))
            if seen is None or not ascii_digits(kind_raw) or int(kind_raw) not in SIGHTING_KINDS:
                self._fail(here, sighting.get("uuid"), "a sighting needs a date_sighting and a type 0, 1 or 2")
                continue
            key = sighting.get("uuid") if isinstance(sighting.get("uuid"), str) else None
            sighting_id = self._id("sighting", key or f"{target['id']}|{int(seen.timestamp())}|{kind_raw}")
            stamp = _fmt(seen)
            obj = {
                "type": "sighting",
                "spec_version": "2.1",
                "id": sighting_id,
                "created": stamp,
                "modified": stamp,
                "first_seen": stamp,
                "last_seen": stamp,
                "count": 1,
                "sighting_of_ref": target["id"],
                "x_misp": {"type": int(kind_raw)},
            }
            if isinstance(sighting.get("source"), str) and sighting["source"]:
                obj["x_misp"]["source"] = sighting["source"]
            if "object_marking_refs" in target:
                obj["object_marking_refs"] = target["object_marking_refs"]
            if int(kind_raw):
                self.sighting_kinds[sighting_id] = SIGHTING_KINDS[int(kind_raw)]
            yield Item(obj, reach, here, key)

    # --- objects and their references -------------------------------------------------------------------------

    def _object(self, obj: Any, where: str, event: _Scope, parent_stamp: datetime) -> Iterator[Item]:
        if not isinstance(obj, dict):
            self._fail(where, None, "an object must be a JSON object")
            return
        obj_uuid = obj.get("uuid")
        if obj_uuid is None:
            obj_uuid = str(uuid.uuid5(NAMESPACE, f"{self.event_uuid}|{where}|{obj.get('name')}"))
        if not isinstance(obj_uuid, str) or not UUID_RE.match(obj_uuid):
            self._fail(where, None, f"uuid {str(obj_uuid)[:60]!r} is not a UUID")
            return
        obj_uuid = obj_uuid.lower()
        if obj.get("deleted") in TRUE:
            return
        try:
            raw = obj.get("distribution")
            number = INHERIT if raw is None else parse_distribution(raw, allow_inherit=True)
        except BadValue as exc:
            self._fail(where, obj_uuid, str(exc))
            return
        reach = event.reach if number == INHERIT else self._reach(number, obj, where, obj_uuid).narrowest(event.reach)
        stamp = _timestamp(obj.get("timestamp")) or parent_stamp
        scope = _Scope(reach, event.tlp, obj_uuid)
        members: list[str] = []
        attributes = as_list(obj.get("Attribute"))
        for index, attribute in enumerate(attributes):
            for item in self._attribute(attribute, f"{where}.Attribute[{index}]", scope, stamp):
                if item.obj["type"] != "sighting":
                    members.append(item.obj["id"])
                yield item
        grouping_id = self._id("grouping", obj_uuid)
        name = obj.get("name") if isinstance(obj.get("name"), str) and obj.get("name") else "object"
        grouping: dict[str, Any] = {
            "type": "grouping",
            "spec_version": "2.1",
            "id": grouping_id,
            "created": _fmt(stamp),
            "modified": _fmt(stamp),
            "name": str(name)[:300],
            "context": "misp-object",
            "object_refs": members or [self.report_id],
        }
        misp: dict[str, Any] = {"uuid": obj_uuid, "name": name, "timestamp": int(stamp.timestamp())}
        for key in (
            "meta-category",
            "description",
            "template_uuid",
            "template_version",
            "comment",
            "distribution",
            "first_seen",
            "last_seen",
        ):
            if isinstance(obj.get(key), str | int):
                misp[key] = obj[key]
        if isinstance(obj.get("comment"), str) and obj["comment"]:
            grouping["description"] = obj["comment"]
        grouping["x_misp"] = misp
        _put_marking(grouping, event.tlp)
        self._ids[obj_uuid] = grouping_id
        self._refs.append(grouping_id)
        yield Item(grouping, reach, where, obj_uuid)
        references = obj.get("ObjectReference")
        for index, reference in enumerate(references if isinstance(references, list) else []):
            self._references.append((f"{where}.ObjectReference[{index}]", grouping_id, reach, reference))

    def _relationships(self, stamp: datetime) -> Iterator[Item]:
        """Object references, once every attribute and object of the event is known (they may point forwards)."""
        for where, source, reach, reference in self._references:
            if not isinstance(reference, dict):
                self._fail(where, None, "an object reference must be a JSON object")
                continue
            ref_uuid = reference.get("uuid") if isinstance(reference.get("uuid"), str) else None
            target_uuid = str(reference.get("referenced_uuid", "")).lower()
            target = self._ids.get(target_uuid)
            kind = reference.get("relationship_type")
            if target is None:
                self._fail(where, ref_uuid, f"the referenced uuid {target_uuid[:60]!r} is not in this event")
                continue
            if not isinstance(kind, str) or not kind.strip():
                self._fail(where, ref_uuid, "the object reference has no relationship_type")
                continue
            when = _timestamp(reference.get("timestamp")) or stamp
            key = ref_uuid or f"{source}|{kind}|{target}"
            relationship: dict[str, Any] = {
                "type": "relationship",
                "spec_version": "2.1",
                "id": self._id("relationship", key),
                "created": _fmt(when),
                "modified": _fmt(when),
                "relationship_type": kind.strip()[:100],
                "source_ref": source,
                "target_ref": target,
            }
            if ref_uuid:
                relationship["x_misp"] = {"uuid": ref_uuid}
            if isinstance(reference.get("comment"), str) and reference["comment"]:
                relationship["description"] = reference["comment"]
            self._refs.append(relationship["id"])
            yield Item(relationship, reach, where, ref_uuid)


def _checked_report(report: dict[str, Any]) -> Built | None:
    """``BUILT`` when the report passes the general STIX check, with its first object reference standing for all
    (each is an id the converter made itself, and the check is linear in them: 10,000 identifier checks for an
    event of 10,000 attributes); None when it does not (the preparer then checks it whole, and says what is wrong)."""
    refs = report["object_refs"]
    return None if stix.check({**report, "object_refs": refs[:1]}) is not None else BUILT


def uuid5(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, name))``, without building UUID objects (this runs once per attribute)."""
    return _uuid5_text(hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).hexdigest())


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 4122 variant bits of the 17th digit


def _uuid5_text(sha1_hex: str) -> str:
    """A version-5 UUID's text from the SHA-1 digest (hex) of its namespace and name."""
    h = sha1_hex
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


@functools.lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return f"{(_EPOCH_DAY + timedelta(days=days)).isoformat()}T"


_SECONDS_TEXT = tuple(f"{second:02d}.000Z" for second in range(60))
_MINUTES: dict[int, str] = {}  # minutes since the epoch -> the timestamp text up to the seconds
MINUTES_KEPT = 65_536


def _second(seconds: int) -> str:
    """``format_timestamp`` of a whole second since the epoch, by arithmetic: the text of each minute is made once
    (MISP stamps are all different, but an event's attributes cluster in a few minutes)."""
    minute, secs = divmod(seconds, 60)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        days, rest = divmod(minute, 1440)
        prefix = f"{_day(days)}{rest // 60:02d}:{rest % 60:02d}:"
        if len(_MINUTES) >= MINUTES_KEPT:
            _MINUTES.clear()
        _MINUTES[minute] = prefix
    return prefix + _SECONDS_TEXT[secs]


def _fmt(moment: datetime) -> str:
    """A STIX timestamp (whole seconds, MISP's timestamps, without strftime)."""
    if moment.microsecond or moment.tzinfo is None:
        return format_timestamp(moment)
    return _second(int(moment.timestamp()))


def _put_labels(obj: dict[str, Any], tags: list[str]) -> None:
    labels = [t[:200] for t in tags if not is_tlp_tag(t)]
    if labels:
        obj["labels"] = labels


def _put_marking(obj: dict[str, Any], level: Tlp | None) -> None:
    if level is Tlp.UNKNOWN:
        obj["object_marking_refs"] = ["marking-definition--00000000-0000-4000-8000-00000000ffff"]  # fails closed
    elif level is not None:
        obj["object_marking_refs"] = [TLP2_MARKINGS[level]]


def _galaxies(raw: object) -> list[dict[str, Any]]:
    """The essentials of each galaxy and its clusters (enough for MISP to attach them again)."""
    out: list[dict[str, Any]] = []
    for galaxy in raw if isinstance(raw, list) else []:
        if not isinstance(galaxy, dict):
            continue
        clusters = []
        for cluster in galaxy.get("GalaxyCluster") or []:
            if isinstance(cluster, dict):
                kept = {k: cluster[k] for k in ("uuid", "type", "value", "tag_name", "description") if k in cluster}
                meta = cluster.get("meta")
                if isinstance(meta, dict) and isinstance(meta.get("external_id"), list):
                    kept["meta"] = {"external_id": meta["external_id"]}
                clusters.append(kept)
        kept_galaxy = {k: galaxy[k] for k in ("uuid", "name", "type", "namespace", "description") if k in galaxy}
        out.append({**kept_galaxy, "GalaxyCluster": clusters})
    return out


def _timestamp(raw: object) -> datetime | None:
    """A MISP timestamp (seconds since the epoch, as a number or a string)."""
    seconds = _seconds(raw)
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _seconds(raw: object) -> int | None:
    """A MISP timestamp's whole seconds since the epoch (before the year 3000), else None."""
    kind = type(raw)  # exact types: a bool is not a timestamp (and this runs once per attribute)
    if kind is not str and kind is not int and kind is not float:
        return None
    try:
        seconds = int(cast("str | int | float", raw))
    except (ValueError, OverflowError):
        return None
    return seconds if 0 < seconds < 32_503_680_000 else None


def _date(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None


def _seen(raw: object) -> datetime | None:
    """MISP first_seen / last_seen (ISO 8601 with an offset, e.g. ``2019-06-12T12:00:00.000000+00:00``); None when
    absent or unreadable."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    return moment


def _check_texts(misp: dict[str, Any]) -> None:
    """Refuse the outside strings STIX validation would refuse (NUL characters, over-long strings), and numbers
    JSON storage cannot hold, naming the field: the objects the converter builds skip the per-object check (see
    ``prepare.Built``)."""
    for key, value in misp.items():
        if type(value) is str:
            if "\x00" in value or len(value) > MAX_STRING:
                _refuse_text(key, value)
        elif type(value) is list:
            for text in value:
                if "\x00" in text or len(text) > MAX_STRING:
                    _refuse_text(key, text)
        elif type(value) is int and not -(2**63) <= value < 2**64:
            raise BadValue(f"the attribute's {key} is a number too large to store")


def _refuse_text(key: str, text: str) -> NoReturn:
    problem = "contains a NUL character" if "\x00" in text else f"is longer than {MAX_STRING:,} characters"
    raise BadValue(f"the attribute's {key} {problem}")
