"""The NICE Framework catalogue as plain data (pure: no session, no web): parsed from NIST's CPRT JSON export, or
from the compact copy shipped in the package, plus the older 2017 (SP 800-181) work-role ids.

CPRT exports are a flat list of ``elements`` (category, work_role, competency_area, task, knowledge, skill,
opm_code, sort) and ``relationships`` (``projection`` source → dest). A category projects onto its work roles, a
work role onto its task/knowledge/skill statements and its OPM code(s).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from herdsec.core.errors import N_, InvalidInput

STATEMENT_KINDS = ("task", "knowledge", "skill")
SHIPPED = "data/nice-cprt-2.1.0.json.gz"
SHIPPED_2017 = "data/nice-2017-roles.json"
SHIPPED_2017_STATEMENTS = "data/nice-2017-statements.json.gz"
METHODS = ("same-id", "same-text", "similar-text", "none")
LEGACY_KINDS = ("task", "knowledge", "skill", "ability")
ATTRIBUTION = (
    "NICE Workforce Framework for Cybersecurity (NIST SP 800-181r1), NIST - U.S. Government work, public domain "
    "in the U.S.; machine-readable transcription via risk-redux/performatron"
)
ATTRIBUTION_2017 = (
    "2017 statements: NICE Cybersecurity Workforce Framework (NIST SP 800-181, 2017), NIST - U.S. Government work, "
    "public domain in the U.S.; transcription via risk-redux/performatron. The mapping onto v2.1.0 is HerdSec's own "
    "derivation, not NIST's"
)


@dataclass(frozen=True, slots=True)
class Group:
    """A work-role category (``OG``) or a competency area (``NF-COM-001``)."""

    code: str
    kind: str  # "category" | "competency_area"
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Statement:
    code: str
    kind: str  # task | knowledge | skill
    text: str


@dataclass(frozen=True, slots=True)
class Role:
    code: str
    title: str
    text: str
    category: str
    opm_codes: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LegacyRole:
    """A work role of the 2017 framework (``SP-RSK-001``) and the current role(s) that took over its OPM code."""

    code: str
    title: str
    opm_code: str
    successors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LegacyStatement:
    """A 2017 statement and the v2.1.0 statement(s) that succeed it, with how that was derived."""

    code: str
    kind: str  # task | knowledge | skill | ability
    text: str
    successors: tuple[str, ...]
    method: str  # one of METHODS
    score: float | None = None


@dataclass(frozen=True)
class Catalogue:
    version: str
    document: str
    source: str
    groups: tuple[Group, ...]
    roles: tuple[Role, ...]
    statements: tuple[Statement, ...]
    legacy: tuple[LegacyRole, ...] = field(default=())
    legacy_statements: tuple[LegacyStatement, ...] = field(default=())

    def counts(self) -> dict[str, int]:
        kinds = {k: sum(1 for s in self.statements if s.kind == k) for k in STATEMENT_KINDS}
        return {
            "categories": sum(1 for g in self.groups if g.kind == "category"),
            "competency_areas": sum(1 for g in self.groups if g.kind == "competency_area"),
            "work_roles": len(self.roles),
            **{f"{k}s" if k != "knowledge" else k: v for k, v in kinds.items()},
        }


def _bad(reason: str, **params: Any) -> InvalidInput:
    return InvalidInput(reason, where="CPRT JSON", **params)


def from_cprt(document: dict[str, Any], source: str = "NIST CPRT export") -> Catalogue:
    """Parse a CPRT export (``{"response": {"elements": {...}}}``); the framework version comes from its document."""
    try:
        body = document["response"]["elements"]
        docs, elements, relations = body["documents"], body["elements"], body["relationships"]
    except (KeyError, TypeError):
        raise _bad(N_("not a CPRT export: expected response.elements.{documents,elements,relationships}")) from None
    if not docs:
        raise _bad(N_("the CPRT export names no document"))
    by_id: dict[str, dict[str, Any]] = {}
    for element in elements:
        by_id[str(element["element_identifier"])] = element
    targets: dict[str, list[str]] = {}
    for rel in relations:
        src, dst = str(rel["source_element_identifier"]), str(rel["dest_element_identifier"])
        if src not in by_id or dst not in by_id:
            raise _bad(N_("a relationship names an unknown element: %(source)s -> %(dest)s"), source=src, dest=dst)
        targets.setdefault(src, []).append(dst)

    def of_type(kind: str) -> list[dict[str, Any]]:
        return sorted((e for e in elements if e["element_type"] == kind), key=lambda e: str(e["element_identifier"]))

    groups = [
        Group(str(e["element_identifier"]), "category", e["title"].strip(), e["text"].strip())
        for e in of_type("category")
    ]
    groups += [
        Group(str(e["element_identifier"]), "competency_area", e["title"].strip(), e["text"].strip())
        for e in of_type("competency_area")
    ]
    category_of = {dst: g.code for g in groups if g.kind == "category" for dst in targets.get(g.code, [])}
    roles = []
    for e in of_type("work_role"):
        code = str(e["element_identifier"])
        linked = targets.get(code, [])
        roles.append(
            Role(
                code=code,
                title=e["title"].strip(),
                text=e["text"].strip(),
                category=category_of.get(code, code.split("-")[0]),
                opm_codes=tuple(sorted(d for d in linked if by_id[d]["element_type"] == "opm_code")),
                statements=tuple(sorted(d for d in linked if by_id[d]["element_type"] in STATEMENT_KINDS)),
            )
        )
    statements = [
        Statement(str(e["element_identifier"]), kind, e["text"].strip())
        for kind in STATEMENT_KINDS
        for e in of_type(kind)
    ]
    return Catalogue(
        version=str(docs[0].get("version") or ""),
        document=str(docs[0].get("name") or docs[0].get("doc_identifier") or ""),
        source=source,
        groups=tuple(groups),
        roles=tuple(roles),
        statements=tuple(statements),
    )


def legacy_from_2017(work_roles: list[dict[str, Any]], current: Catalogue) -> tuple[LegacyRole, ...]:
    """Map each 2017 work role (``acronym``, ``name``, ``opm_code``) to the current roles sharing its OPM code;
    roles retired in v2 (the 2017 Analyze and Collect-and-Operate roles) get no successor."""
    by_opm: dict[str, list[str]] = {}
    for role in current.roles:
        for opm in role.opm_codes:
            by_opm.setdefault(opm, []).append(role.code)
    return tuple(
        LegacyRole(
            str(r["acronym"]), str(r["name"]), str(r["opm_code"]), tuple(sorted(by_opm.get(str(r["opm_code"]), [])))
        )
        for r in sorted(work_roles, key=lambda r: str(r["acronym"]))
    )


def to_compact(catalogue: Catalogue) -> dict[str, Any]:
    """The shipped form: one JSON object, statements listed once, roles naming them by code."""
    return {
        "version": catalogue.version,
        "document": catalogue.document,
        "source": catalogue.source,
        "attribution": ATTRIBUTION,
        "groups": [[g.code, g.kind, g.title, g.text] for g in catalogue.groups],
        "roles": [
            [r.code, r.title, r.text, r.category, list(r.opm_codes), list(r.statements)] for r in catalogue.roles
        ],
        "statements": [[s.code, s.kind, s.text] for s in catalogue.statements],
    }


def from_compact(
    data: dict[str, Any], legacy: list[dict[str, Any]] | None = None, legacy_statements: dict[str, Any] | None = None
) -> Catalogue:
    return Catalogue(
        version=data["version"],
        document=data["document"],
        source=data["source"],
        groups=tuple(Group(*g) for g in data["groups"]),
        roles=tuple(Role(c, t, x, cat, tuple(o), tuple(s)) for c, t, x, cat, o, s in data["roles"]),
        statements=tuple(Statement(*s) for s in data["statements"]),
        legacy=tuple(LegacyRole(r["code"], r["title"], r["opm_code"], tuple(r["successors"])) for r in (legacy or [])),
        legacy_statements=tuple(
            LegacyStatement(code, kind, text, tuple(successors), method, score)
            for code, kind, text, successors, method, score in (legacy_statements or {}).get("statements", [])
        ),
    )


def legacy_to_compact(mapped: tuple[LegacyStatement, ...], threshold: float) -> dict[str, Any]:
    """The shipped form of the 2017 statement mapping (``nice-2017-statements.json.gz``)."""
    return {
        "attribution": ATTRIBUTION_2017,
        "derivation": "herdsec.skills.legacy.map_2017 (same-id, same-text, similar-text with its score, none)",
        "threshold": threshold,
        "statements": [[s.code, s.kind, s.text, list(s.successors), s.method, s.score] for s in mapped],
    }


def _package_json(name: str) -> Any:
    path = resources.files("herdsec.skills").joinpath(name)
    with path.open("rb") as raw:
        payload = gzip.decompress(raw.read()) if name.endswith(".gz") else raw.read()
    return json.loads(payload)


@cache
def shipped() -> Catalogue:
    """The NICE Framework v2.1.0 catalogue shipped in the package (with the 2017 work-role and statement ids)."""
    return from_compact(_package_json(SHIPPED), _package_json(SHIPPED_2017), _package_json(SHIPPED_2017_STATEMENTS))


def package_data(name: str) -> Any:
    """One of the hub's own data files under ``skills/data/`` (ECSF, crosswalk, names, glossary)."""
    return _package_json(f"data/{name}")
