"""Indicator files in: a plain list, CSV, a STIX 2.1 bundle or a MISP event, each value normalised with the hub's
own rules (:mod:`herdsec.ioc`), so the scanner and the hub agree on what a value is.

- Plain list: one value per line, ``#`` comments and blank lines skipped, defanged values refanged (``hxxp``,
  ``[.]``, ``(.)`` …), types detected.
- CSV with a header: the value column is the first named ``value``, ``indicator``, ``ioc``, ``observable``, ``ip``,
  ``domain``, ``url`` or ``hash`` (else the first column); a ``type`` column (hub or MISP type names) is used when
  present, else the type is detected.
- STIX 2.1 bundle: every non-revoked ``indicator`` whose pattern is STIX (the values of its positive comparisons)
  and every cyber-observable object; expired indicators (``valid_until`` in the past) are skipped.
- MISP event (``{"Event": …}``, a list of them, or ``{"response": […]}``): attributes and object attributes;
  composite types (``domain|ip``, ``filename|sha256``) give both values.

A line or object that is not an indicator is reported with its place and skipped, never fatal.
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from herdsec.core.errors import N_, InvalidInput
from herdsec.ioc import pattern as stix_pattern
from herdsec.ioc.normalise import detect, looks_like_filename, normalise
from herdsec.ioc.refang import refang
from herdsec.ioc.sco import values_from_path, values_from_sco
from herdsec.ioc.types import IocType, Value

MISP_TYPES: dict[str, IocType] = {
    "ip-src": IocType.IPV4,
    "ip-dst": IocType.IPV4,
    "domain": IocType.DOMAIN,
    "hostname": IocType.DOMAIN,
    "url": IocType.URL,
    "uri": IocType.URL,
    "link": IocType.URL,
    "email": IocType.EMAIL,
    "email-src": IocType.EMAIL,
    "email-dst": IocType.EMAIL,
    "md5": IocType.MD5,
    "sha1": IocType.SHA1,
    "sha256": IocType.SHA256,
    "sha512": IocType.SHA512,
    "ja3-fingerprint-md5": IocType.JA3,
    "filename": IocType.FILENAME,
    "mutex": IocType.MUTEX,
    "regkey": IocType.REGKEY,
    "user-agent": IocType.USER_AGENT,
    "vulnerability": IocType.CVE,
}
_VALUE_COLUMNS = ("value", "indicator", "ioc", "observable", "ip", "domain", "url", "hash")


@dataclass(slots=True)
class Loaded:
    """Values read from indicator files and what was skipped (``file:line: reason: text``)."""

    values: list[Value] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    canonical: list[tuple[IocType, str]] = field(default_factory=list)
    """Values of plain lists already in canonical form (found by :data:`_CANONICAL`: no Value built for them)."""

    def add(self, value: Value | None, where: str, text: str, object_id: str | None = None) -> None:
        if value is None or value.problem is not None:
            reason = value.problem if value is not None and value.problem else "not an indicator"
            self.problems.append(f"{where}: {reason}: {text[:80]}")
            return
        self.values.append(value)
        self.ids.append(object_id)


def _ip_type(kind: IocType, text: str) -> IocType:
    """MISP ``ip-src``/``ip-dst`` hold IPv4 or IPv6 addresses and networks."""
    if kind is IocType.IPV4:
        if "/" in text:
            return IocType.CIDR
        if ":" in text:
            return IocType.IPV6
    return kind


def typed(kind_name: str | None, text: str) -> Value | None:
    """A value read with a declared type (hub or MISP names), or detected when no type is declared."""
    if not kind_name:
        return detect(refang(text))
    name = kind_name.strip().lower()
    try:
        kind = IocType(name)
    except ValueError:
        found = MISP_TYPES.get(name)
        if found is None:
            return detect(refang(text))
        kind = found
    literal = kind in (IocType.USER_AGENT, IocType.MUTEX, IocType.FILENAME, IocType.REGKEY)
    value_text = text.strip() if literal else refang(text.strip())
    return normalise(_ip_type(kind, value_text), value_text)


def load_file(path: Path, into: Loaded) -> None:
    """Read one indicator file (format by content) into ``into``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            N_("cannot read the indicator file: %(reason)s"), where=str(path), reason=exc.strerror
        ) from None
    text = data.decode("utf-8-sig", "replace")
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            document = json.loads(text)
        except ValueError:
            pass
        else:
            _load_json(document, str(path), into)
            return
    first = text.split("\n", 1)[0]
    if "," in first and _looks_like_header(first):
        _load_csv(text, str(path), into)
    else:
        load_lines(text.splitlines(), str(path), into)


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL = re.compile(
    rf"(?P<ipv4>{_OCTET}(?:\.{_OCTET}){{3}})|(?P<hash>[0-9a-f]{{32}}(?:[0-9a-f]{{8}})?|[0-9a-f]{{64}}|[0-9a-f]{{128}})"
    r"|(?P<domain>(?!.*xn--)(?:[a-z0-9_-]{1,63}\.)+(?![0-9]+\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
)
_HASHES = {32: IocType.MD5, 40: IocType.SHA1, 64: IocType.SHA256, 128: IocType.SHA512}
_CANONICAL_NETWORK = re.compile(rf"({_OCTET}(?:\.{_OCTET}){{3}})/([1-9]|[12][0-9]|3[01])")


def canonical_address(text: str) -> Value | None:
    """The Value of an IPv6 address or IPv4 network already written as :func:`herdsec.ioc.normalise.detect` would
    write it (compressed lowercase IPv6 without an embedded IPv4 part; a network with its host bits clear and a
    prefix length of 1 to 31), without the general parser; None otherwise (the caller then uses ``detect``)."""
    if ":" in text:
        if "." in text or "/" in text or "%" in text or "[" in text:
            return None
        try:
            packed = socket.inet_pton(socket.AF_INET6, text)
        except OSError:
            return None
        return Value(IocType.IPV6, text, text) if socket.inet_ntop(socket.AF_INET6, packed) == text else None
    match = _CANONICAL_NETWORK.fullmatch(text)
    if match is None:
        return None
    host_bits = (1 << (32 - int(match[2]))) - 1
    if int.from_bytes(socket.inet_aton(match[1]), "big") & host_bits:
        return None
    return Value(IocType.CIDR, text, text)


def load_lines(lines: Iterable[str], where: str, into: Loaded) -> None:
    """A plain list: one value per line. Lines already canonical (lowercase domains, dotted quads, lowercase hashes:
    most of a large list) take a fast path with the same outcome as :func:`herdsec.ioc.normalise.detect`."""
    fast = into.canonical.append
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text[0] == "#":
            continue
        match = _CANONICAL.fullmatch(text)
        if match is not None:
            group = match.lastgroup
            if group == "ipv4":
                fast((IocType.IPV4, text))
                continue
            if group == "hash":
                fast((_HASHES[len(text)], text))
                continue
            if len(text) <= 253 and not looks_like_filename(text):
                fast((IocType.DOMAIN, text))
                continue
        elif (address := canonical_address(text)) is not None:
            into.values.append(address)
            into.ids.append(None)
            continue
        into.add(detect(refang(text)), f"{where}:{number}", text)


def _looks_like_header(line: str) -> bool:
    cells = [cell.strip().strip('"').lower() for cell in line.split(",")]
    return any(cell in (*_VALUE_COLUMNS, "type") for cell in cells) or all(
        cell and detect(cell) is None for cell in cells
    )


def _load_csv(text: str, where: str, into: Loaded) -> None:
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip().lower() for cell in next(reader, [])]
    value_at = next((header.index(name) for name in _VALUE_COLUMNS if name in header), 0)
    type_at = header.index("type") if "type" in header else None
    for number, row in enumerate(reader, 2):
        if not row or value_at >= len(row) or not row[value_at].strip():
            continue
        kind = row[type_at] if type_at is not None and type_at < len(row) else None
        into.add(typed(kind, row[value_at]), f"{where}:{number}", row[value_at])


def _load_json(document: Any, where: str, into: Loaded) -> None:
    if isinstance(document, Mapping) and document.get("type") == "bundle":
        _load_stix(document.get("objects") or [], where, into)
    elif isinstance(document, Mapping) and ("Event" in document or "response" in document):
        events = document.get("response") or [document]
        for event in events if isinstance(events, list) else []:
            _load_misp(event.get("Event", event) if isinstance(event, Mapping) else {}, where, into)
    elif isinstance(document, list) and all(isinstance(item, Mapping) and "Event" in item for item in document):
        for item in document:
            _load_misp(item["Event"], where, into)
    else:
        raise InvalidInput(N_("JSON that is neither a STIX 2.1 bundle nor a MISP event"), where=where)


def _expired(obj: Mapping[str, Any], now: datetime) -> bool:
    until = obj.get("valid_until")
    if not isinstance(until, str):
        return False
    try:
        return datetime.fromisoformat(until.replace("Z", "+00:00")) <= now
    except ValueError:
        return False


def _load_stix(objects: Iterable[Any], where: str, into: Loaded) -> None:
    now = datetime.now(UTC)
    for index, obj in enumerate(objects):
        if not isinstance(obj, Mapping) or obj.get("revoked") is True:
            continue
        place = f"{where}: objects[{index}]"
        object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        if obj.get("type") == "indicator":
            if obj.get("pattern_type", "stix") != "stix" or _expired(obj, now):
                continue
            for value, text in _pattern_values(str(obj.get("pattern", "")), place, into):
                into.add(value, place, text, object_id)
        else:
            for value in values_from_sco(obj):
                into.add(value, place, value.raw, object_id)


def _pattern_values(text: str, place: str, into: Loaded) -> Iterator[tuple[Value | None, str]]:
    try:
        parsed = stix_pattern.parse(text)
    except InvalidInput as exc:
        into.problems.append(f"{place}: invalid STIX pattern: {exc.render()[:120]}")
        return
    for path, literal in stix_pattern.indexable(parsed):
        value = values_from_path(path, literal)
        if value is not None:
            yield value, literal


def _attributes(event: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for attribute in event.get("Attribute") or []:
        if isinstance(attribute, Mapping):
            yield attribute
    for obj in event.get("Object") or []:
        if isinstance(obj, Mapping):
            for attribute in obj.get("Attribute") or []:
                if isinstance(attribute, Mapping):
                    yield attribute


def _load_misp(event: Mapping[str, Any], where: str, into: Loaded) -> None:
    for index, attribute in enumerate(_attributes(event)):
        kind = str(attribute.get("type", ""))
        raw = str(attribute.get("value", ""))
        if attribute.get("deleted") in (True, "1"):
            continue
        place = f"{where}: Attribute[{index}]"
        object_id = attribute.get("uuid") if isinstance(attribute.get("uuid"), str) else None
        kinds = kind.split("|")
        raws = raw.split("|") if len(kinds) > 1 else [raw]
        for part_kind, part in zip(kinds, raws, strict=False):
            if part_kind in ("port", "comment", "text", "other"):
                continue
            into.add(typed(part_kind, part), place, part, object_id)
