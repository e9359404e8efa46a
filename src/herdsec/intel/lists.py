"""CSV lists of indicators: a header row naming the columns ``value`` and ``type`` (optional ``comment``, ``tags``,
``tlp``), one indicator a row. Types are the hub's (``ipv4``, ``domain``, ``sha256``…) or MISP's (``ip-dst``,
``hostname``…); an empty type is guessed from the value.

Cells are data, never formulas: a cell starting with ``=``, ``+``, ``-`` or ``@`` is taken as the text it is (and
refused as a value when it is no indicator). Defanged values are refanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput
from herdsec.identity import Principal
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel.indicators import object_for
from herdsec.intel.ingest import ingest_new
from herdsec.intel.schemas import IngestStatus
from herdsec.ioc.normalise import detect, normalise
from herdsec.ioc.refang import refang
from herdsec.ioc.types import IocType, Value

REQUIRED = ("value", "type")
OPTIONAL = ("comment", "tags", "tlp")
MAX_CELL = 8192
MISP_TYPES: dict[str, IocType | None] = {
    "ip-src": None,  # IPv4 or IPv6: decided by the value
    "ip-dst": None,
    "domain": IocType.DOMAIN,
    "hostname": IocType.DOMAIN,
    "url": IocType.URL,
    "uri": IocType.URL,
    "email": IocType.EMAIL,
    "email-src": IocType.EMAIL,
    "email-dst": IocType.EMAIL,
    "md5": IocType.MD5,
    "sha1": IocType.SHA1,
    "sha256": IocType.SHA256,
    "sha512": IocType.SHA512,
    "filename": IocType.FILENAME,
    "mutex": IocType.MUTEX,
    "regkey": IocType.REGKEY,
    "user-agent": IocType.USER_AGENT,
    "ja3-fingerprint-md5": IocType.JA3,
    "vulnerability": IocType.CVE,
}


@dataclass(frozen=True)
class Row:
    line: int
    value: Value
    comment: str = ""
    tags: tuple[str, ...] = ()
    tlp: Tlp | None = None


@dataclass
class CsvList:
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "<name>:<line>: reason: cell"


def read_csv(stream: IO[bytes], name: str = "csv") -> CsvList:
    """The rows of a CSV list; a missing required column is an error naming it and the header line."""
    try:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            raise InvalidInput(
                N_("the CSV file is empty; a header row naming the columns is needed"), where=f"{name}:1"
            )
        columns = {cell.strip().lower(): index for index, cell in enumerate(header)}
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise InvalidInput(
                N_("the CSV header (line %(line)s) lacks the column(s) %(columns)s"),
                where=f"{name}:{reader.line_num}",
                line=reader.line_num,
                columns=", ".join(missing),
            )
        out = CsvList()
        for cells in reader:
            _row(out, name, reader.line_num, cells, columns)
        return out
    except UnicodeDecodeError as exc:
        raise InvalidInput(N_("not UTF-8 text: %(reason)s"), where=name, reason=str(exc)) from None
    except csv.Error as exc:
        raise InvalidInput(N_("malformed CSV: %(reason)s"), where=name, reason=str(exc)) from None


def _cell(cells: list[str], columns: dict[str, int], column: str) -> str:
    index = columns.get(column)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _row(out: CsvList, name: str, line: int, cells: list[str], columns: dict[str, int]) -> None:
    if not any(c.strip() for c in cells):
        return
    raw, kind = _cell(cells, columns, "value"), _cell(cells, columns, "type").lower()
    where = f"{name}:{line}"
    if len(raw) > MAX_CELL:
        out.problems.append(f"{where}: the value is longer than {MAX_CELL} characters")
        return
    value = _value(refang(raw), kind)
    if isinstance(value, str):
        out.problems.append(f"{where}: {value}: {raw[:80]}")
        return
    tags = tuple(t.strip() for part in _cell(cells, columns, "tags").split(";") for t in part.split(",") if t.strip())
    tlp_text = _cell(cells, columns, "tlp") or next((t for t in tags if t.lower().startswith("tlp:")), "")
    try:
        level = Tlp.parse(tlp_text) if tlp_text else None
    except InvalidInput:
        out.problems.append(f"{where}: unknown TLP {tlp_text[:40]!r}")
        return
    labels = tuple(t[:200] for t in tags if not t.lower().startswith("tlp:"))
    out.rows.append(Row(line, value, _cell(cells, columns, "comment")[:MAX_CELL], labels, level))


def _value(raw: str, kind: str) -> Value | str:
    """The typed value, or the reason it is refused."""
    if not raw:
        return "no value"
    if not kind:
        found = detect(raw)
        return found if found is not None and found.problem is None else "not an indicator"
    if kind in MISP_TYPES:
        target = MISP_TYPES[kind]
        target = target or (IocType.IPV6 if ":" in raw else IocType.IPV4)
    else:
        try:
            target = IocType(kind)
        except ValueError:
            return f"unknown type {kind[:40]!r}"
    value = normalise(target, raw)
    return value if value.problem is None else value.problem


def share_rows(
    session: Session,
    actor: Principal,
    rows: Iterable[Row],
    *,
    tlp: str | None = None,
    distribution: str | None = None,
    source: str = "csv",
) -> IngestStatus:
    """Share CSV rows as indicators (ids derive from organization, type and value: importing again is a no-op)."""
    org = identity.get_org(session, actor.org_id)
    now = utcnow()
    objects = []
    for row in rows:
        obj = object_for(row.value, org.uuid, now, labels=list(row.tags) or None)
        if obj is None:
            continue
        if row.comment:
            obj["description"] = row.comment
        if row.tlp is not None:
            obj["object_marking_refs"] = [TLP2_MARKINGS[row.tlp]]
        objects.append(obj)
    return ingest_new(session, actor, objects, tlp=tlp, distribution=distribution, source=source)
