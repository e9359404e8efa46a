"""Use-cases of the skills catalogue: load it (idempotent), browse roles, search statements, add custom roles.

The catalogue is public reference data (every member reads all of it); custom roles are added by coordinators.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.identity import Principal
from herdsec.skills import legacy as legacy_ids
from herdsec.skills.catalogue import Catalogue, LegacyStatement, package_data, shipped
from herdsec.skills.matching import Matcher, RoleDoc, fold, shipped_glossary
from herdsec.skills.models import (
    SkillCrosswalk,
    SkillGroup,
    SkillPosting,
    SkillRole,
    SkillRoleStatement,
    SkillStatement,
)
from herdsec.skills.schemas import (
    CrosswalkOut,
    CustomRoleEdit,
    CustomRoleIn,
    GroupOut,
    LegacyStatementOut,
    LoadReport,
    RoleDetail,
    RoleRef,
    RoleSummary,
    SearchHit,
    StatementDetail,
    StatementLookup,
    StatementOut,
)

ECSF_VERSION = "1.0"
VI_SOURCE = "hub"


def load(session: Session, catalogue: Catalogue | None = None) -> LoadReport:
    """Store the NICE catalogue (shipped v2.1.0 unless another is given), the ECSF profiles and the crosswalk.

    Running it again changes nothing; a newer catalogue updates texts and links in place and keeps custom roles."""
    cat = catalogue or shipped()
    names = package_data("vi-names.json")
    created = updated = 0
    c, u = _upsert_groups(session, cat, names)
    created, updated = created + c, updated + u
    c, u, statement_ids = _upsert_statements(session, cat)
    created, updated = created + c, updated + u
    legacy: dict[str, list[str]] = {}
    for old in cat.legacy:
        for successor in old.successors:
            legacy.setdefault(successor, []).append(old.code)
    nice_rows = [
        {
            "code": r.code,
            "framework": "nice",
            "version": cat.version,
            "category": r.category,
            "name_en": r.title,
            "name_vi": names["work_roles"].get(r.code),
            "text_en": r.text,
            "text_vi": names.get("work_role_descriptions", {}).get(r.code),
            "opm_codes": " ".join(r.opm_codes),
            "legacy_codes": " ".join(sorted(legacy.get(r.code, []))),
            "details": {"vi_source": VI_SOURCE},
        }
        for r in cat.roles
    ]
    ecsf = package_data("ecsf.json")["profiles"]
    ecsf_rows = [
        {
            "code": p["code"],
            "framework": "ecsf",
            "version": ECSF_VERSION,
            "category": None,
            "name_en": p["title"],
            "name_vi": p["title_vi"],
            "text_en": p["summary"],
            "text_vi": p["summary_vi"],
            "opm_codes": "",
            "legacy_codes": "",
            "details": {
                k: p[k] for k in ("mission", "mission_vi", "tasks", "tasks_vi", "deliverables", "deliverables_vi")
            }
            | {"vi_source": VI_SOURCE},
        }
        for p in ecsf
    ]
    c, u, role_ids = _upsert_roles(session, nice_rows + ecsf_rows)
    created, updated = created + c, updated + u
    links = _sync_links(session, cat, role_ids, statement_ids)
    crosswalk = _sync_crosswalk(session, role_ids)
    counts = cat.counts()
    return LoadReport(
        version=cat.version,
        categories=counts["categories"],
        competency_areas=counts["competency_areas"],
        work_roles=counts["work_roles"],
        ecsf_profiles=len(ecsf_rows),
        statements=len(cat.statements),
        links=links,
        crosswalk=crosswalk,
        created=created,
        updated=updated,
    )


def _upsert_groups(session: Session, cat: Catalogue, names: dict[str, Any]) -> tuple[int, int]:
    existing = {g.code: g for g in session.scalars(select(SkillGroup))}
    created = updated = 0
    for g in cat.groups:
        name_vi = names["categories" if g.kind == "category" else "competency_areas"].get(g.code)
        text_vi = names.get("category_descriptions", {}).get(g.code)
        values = {
            "kind": g.kind,
            "version": cat.version,
            "name_en": g.title,
            "name_vi": name_vi,
            "text_en": g.text,
            "text_vi": text_vi,
        }
        row = existing.get(g.code)
        if row is None:
            session.add(SkillGroup(code=g.code, **values))
            created += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updated += 1
    session.flush()
    return created, updated


def _upsert_statements(session: Session, cat: Catalogue) -> tuple[int, int, dict[str, int]]:
    existing = {s.code: s for s in session.scalars(select(SkillStatement))}
    new = [
        {"code": s.code, "kind": s.kind, "version": cat.version, "text_en": s.text}
        for s in cat.statements
        if s.code not in existing
    ]
    updated = 0
    for s in cat.statements:
        row = existing.get(s.code)
        if row is not None and (row.text_en != s.text or row.kind != s.kind or row.version != cat.version):
            row.text_en, row.kind, row.version = s.text, s.kind, cat.version
            updated += 1
    if new:
        session.execute(insert(SkillStatement), new)
    session.flush()
    ids = dict(session.execute(select(SkillStatement.code, SkillStatement.id)).all())
    return len(new), updated, ids


def _upsert_roles(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int, dict[str, int]]:
    existing = {r.code: r for r in session.scalars(select(SkillRole).where(SkillRole.framework.in_(("nice", "ecsf"))))}
    created = updated = 0
    for values in rows:
        row = existing.get(values["code"])
        if row is None:
            session.add(SkillRole(**values))
            created += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updated += 1
    session.flush()
    ids = dict(session.execute(select(SkillRole.code, SkillRole.id)).all())
    return created, updated, ids


def _sync_links(session: Session, cat: Catalogue, role_ids: dict[str, int], statement_ids: dict[str, int]) -> int:
    wanted = {(role_ids[r.code], statement_ids[s]) for r in cat.roles for s in r.statements}
    nice_ids = [role_ids[r.code] for r in cat.roles]
    have = set(
        session.execute(
            select(SkillRoleStatement.role_id, SkillRoleStatement.statement_id).where(
                SkillRoleStatement.role_id.in_(nice_ids)
            )
        ).all()
    )
    gone = have - wanted
    for role_id, statement_id in gone:
        session.execute(
            delete(SkillRoleStatement).where(
                SkillRoleStatement.role_id == role_id, SkillRoleStatement.statement_id == statement_id
            )
        )
    add = sorted(wanted - have)
    if add:
        session.execute(insert(SkillRoleStatement), [{"role_id": r, "statement_id": s} for r, s in add])
    return len(wanted)


def _sync_crosswalk(session: Session, role_ids: dict[str, int]) -> int:
    links = package_data("crosswalk.json")["links"]
    existing = {(x.ecsf_role_id, x.nice_role_id): x for x in session.scalars(select(SkillCrosswalk))}
    for ecsf, nice, relation, why_en, why_vi in links:
        if ecsf not in role_ids or nice not in role_ids:
            raise InvalidInput(N_("the crosswalk names an unknown role: %(role)s"), role=f"{ecsf}/{nice}")
        key = (role_ids[ecsf], role_ids[nice])
        row = existing.get(key)
        if row is None:
            session.add(
                SkillCrosswalk(
                    ecsf_role_id=key[0],
                    nice_role_id=key[1],
                    relation=relation,
                    rationale_en=why_en,
                    rationale_vi=why_vi,
                )
            )
        else:
            row.relation, row.rationale_en, row.rationale_vi = relation, why_en, why_vi
    session.flush()
    return len(links)


def is_loaded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(SkillRole).where(SkillRole.framework == "nice")))


def _ensure_loaded(session: Session) -> None:
    if not is_loaded(session):
        raise NotFound(N_("the skills catalogue is not loaded: run 'herdsec skills load'"))


def list_groups(session: Session, kind: str | None = None) -> list[GroupOut]:
    query = select(SkillGroup).order_by(SkillGroup.code)
    if kind:
        query = query.where(SkillGroup.kind == kind)
    return [GroupOut.model_validate(g) for g in session.scalars(query)]


def list_roles(session: Session, framework: str | None = None, category: str | None = None) -> list[RoleSummary]:
    _ensure_loaded(session)
    query = select(SkillRole).order_by(SkillRole.framework, SkillRole.code)
    if framework:
        query = query.where(SkillRole.framework == framework)
    if category:
        query = query.where(SkillRole.category == category)
    return [RoleSummary.model_validate(r) for r in session.scalars(query)]


def find_role(session: Session, code: str) -> tuple[SkillRole, str | None]:
    """A role by its code, or by a 2017 work-role id (``SP-RSK-001``) through the role that took over its OPM code."""
    key = code.strip().upper()
    role = session.scalar(select(SkillRole).where(SkillRole.code == key))
    if role is not None:
        return role, None
    for candidate in session.scalars(select(SkillRole).where(SkillRole.legacy_codes.contains(key))):
        if key in candidate.legacy_codes.split():
            return candidate, key
    retired = next((r for r in shipped().legacy if r.code == key), None)
    if retired is not None:
        raise NotFound(
            N_("%(code)s (%(title)s) was retired in NICE v2 and has no successor"), code=key, title=retired.title
        )
    raise NotFound(N_("no work role %(code)s"), code=key)


def role_detail(session: Session, code: str) -> RoleDetail:
    _ensure_loaded(session)
    role, resolved_from = find_role(session, code)
    by_kind: dict[str, list[StatementOut]] = {"task": [], "knowledge": [], "skill": []}
    for s in role.statements:
        by_kind.setdefault(s.kind, []).append(StatementOut.model_validate(s))
    return RoleDetail(
        **RoleSummary.model_validate(role).model_dump(),
        opm_codes=role.opm_codes.split(),
        legacy_codes=role.legacy_codes.split(),
        resolved_from=resolved_from,
        vi_source=role.details.get("vi_source"),
        details={k: v for k, v in role.details.items() if k != "vi_source"},
        tasks=by_kind["task"],
        knowledge=by_kind["knowledge"],
        skills=by_kind["skill"],
        crosswalk=_crosswalk_of(session, role),
    )


def _crosswalk_of(session: Session, role: SkillRole) -> list[CrosswalkOut]:
    mine, other = (
        (SkillCrosswalk.ecsf_role_id, SkillCrosswalk.nice_role_id)
        if role.framework == "ecsf"
        else (SkillCrosswalk.nice_role_id, SkillCrosswalk.ecsf_role_id)
    )
    rows = session.execute(
        select(SkillCrosswalk, SkillRole).join(SkillRole, SkillRole.id == other).where(mine == role.id)
    ).all()
    return [
        CrosswalkOut(
            code=r.code,
            framework=r.framework,
            name_en=r.name_en,
            name_vi=r.name_vi,
            relation=x.relation,
            rationale_en=x.rationale_en,
            rationale_vi=x.rationale_vi,
        )
        for x, r in sorted(rows, key=lambda xr: xr[1].code)
    ]


def crosswalk(session: Session) -> list[tuple[str, str, str, str, str]]:
    """Every link as (ECSF code, NICE code, relation, rationale_en, rationale_vi)."""
    ecsf = select(SkillRole.id, SkillRole.code).subquery("e")
    nice = select(SkillRole.id, SkillRole.code).subquery("n")
    rows = session.execute(
        select(
            ecsf.c.code, nice.c.code, SkillCrosswalk.relation, SkillCrosswalk.rationale_en, SkillCrosswalk.rationale_vi
        )
        .join(ecsf, ecsf.c.id == SkillCrosswalk.ecsf_role_id)
        .join(nice, nice.c.id == SkillCrosswalk.nice_role_id)
        .order_by(ecsf.c.code, nice.c.code)
    )
    return list(rows.all())


_matchers: dict[tuple[Any, ...], Matcher] = {}


def matcher(session: Session) -> Matcher:
    """The matcher over what is stored (NICE roles and custom roles), rebuilt only when the catalogue changes."""
    _ensure_loaded(session)
    links = session.scalar(select(func.count()).select_from(SkillRoleStatement))
    custom = session.execute(
        select(SkillRole.code, SkillRole.name_en, SkillRole.name_vi).where(SkillRole.framework == "custom")
    )
    version = session.scalar(select(func.max(SkillRole.version)).where(SkillRole.framework == "nice"))
    signature = (version, links, tuple(sorted(custom.all())))
    found = _matchers.get(signature)
    if found is not None:
        return found
    aliases = package_data("aliases.json")["roles"]
    roles = session.scalars(select(SkillRole).where(SkillRole.framework != "ecsf").order_by(SkillRole.code)).all()
    docs = [
        RoleDoc(
            code=r.code,
            title=r.name_en,
            title_vi=r.name_vi,
            # NICE roles match on NIST's English text (as the evaluated CLI matcher does); custom roles on both.
            text=" ".join(filter(None, [r.text_en, r.text_vi if r.framework == "custom" else None])),
            aliases=tuple(aliases.get(r.code, [])) + tuple(r.details.get("aliases", [])),
            statements=tuple(s.code for s in r.statements),
        )
        for r in roles
    ]
    statements = {s.code: (s.kind, s.text_en) for s in session.scalars(select(SkillStatement))}
    built = Matcher(docs, statements, shipped_glossary())
    _matchers.clear()
    _matchers[signature] = built
    return built


def search_statements(session: Session, query: str, kind: str | None = None, limit: int = 30) -> list[SearchHit]:
    """Statements nearest a query in Vietnamese or English (the glossary bridges Vietnamese), with their roles."""
    text = query.strip()
    if not text:
        return []
    if len(text) > 500:
        raise InvalidInput(N_("the search text is over %(max)s characters"), where="q", max=500)
    hits = [h for h in matcher(session).search(text, limit=limit * 3) if kind is None or h.kind == kind][:limit]
    roles: dict[str, list[str]] = {}
    if hits:
        rows = session.execute(
            select(SkillStatement.code, SkillRole.code)
            .join(SkillRoleStatement, SkillRoleStatement.statement_id == SkillStatement.id)
            .join(SkillRole, SkillRole.id == SkillRoleStatement.role_id)
            .where(SkillStatement.code.in_([h.code for h in hits]))
            .order_by(SkillRole.code)
        )
        for statement, role in rows:
            roles.setdefault(statement, []).append(role)
    return [
        SearchHit(code=h.code, kind=h.kind, text_en=h.text, score=h.score, roles=roles.get(h.code, [])) for h in hits
    ]


def create_custom_role(session: Session, actor: Principal, data: CustomRoleIn) -> RoleDetail:
    """A coordinator adds a role of the hub's own (for example a Vietnam-specific one) made of catalogue statements."""
    if not actor.is_coordinator:
        raise PermissionDenied(N_("only coordinators add custom work roles"))
    _ensure_loaded(session)
    if legacy_ids.STATEMENT_ID.fullmatch(data.code):
        raise InvalidInput(
            N_("%(code)s reads as a statement id: choose another role code"), where="code", code=data.code
        )
    if session.scalar(select(SkillRole.id).where(SkillRole.code == data.code)) is not None:
        raise Conflict(N_("a work role %(code)s already exists"), where="code", code=data.code)
    if data.category and session.scalar(select(SkillGroup.id).where(SkillGroup.code == data.category)) is None:
        raise InvalidInput(N_("unknown category %(code)s"), where="category", code=data.category)
    wanted = require_statements(session, data.statements, "statements")
    ids = dict(
        session.execute(select(SkillStatement.code, SkillStatement.id).where(SkillStatement.code.in_(wanted))).all()
    )
    role = SkillRole(
        code=data.code,
        framework="custom",
        version="hub",
        category=data.category,
        name_en=data.name_en.strip(),
        name_vi=data.name_vi.strip(),
        text_en=data.text_en.strip(),
        text_vi=data.text_vi.strip() or None,
        opm_codes="",
        legacy_codes="",
        details={"aliases": [a.strip() for a in data.aliases if a.strip()], "vi_source": "author"},
        created_by_org_id=actor.org_id or None,
    )
    session.add(role)
    session.flush()
    _link(session, role.id, ids.values())
    identity.audit_record(session, actor, "skills.role.create", "skill_role", role.code)
    session.flush()
    session.expire(role)
    return role_detail(session, role.code)


def _custom(session: Session, actor: Principal, code: str, refusal: str) -> SkillRole:
    if not actor.is_coordinator:
        raise PermissionDenied(refusal)
    _ensure_loaded(session)
    role = session.scalar(select(SkillRole).where(SkillRole.code == code.strip().upper()))
    if role is None:
        raise NotFound(N_("no work role %(code)s"), code=code.strip().upper())
    if role.framework != "custom":
        raise InvalidInput(
            N_("%(code)s is a %(framework)s role: only the hub's custom roles can be changed"),
            where="code",
            code=role.code,
            framework=role.framework.upper(),
        )
    return role


def update_custom_role(session: Session, actor: Principal, code: str, data: CustomRoleEdit) -> RoleDetail:
    """A coordinator changes a custom role's names, texts, category, statements and aliases (not its code)."""
    role = _custom(session, actor, code, N_("only coordinators edit custom work roles"))
    if data.category and session.scalar(select(SkillGroup.id).where(SkillGroup.code == data.category)) is None:
        raise InvalidInput(N_("unknown category %(code)s"), where="category", code=data.category)
    wanted = require_statements(session, data.statements, "statements")
    ids = dict(
        session.execute(select(SkillStatement.code, SkillStatement.id).where(SkillStatement.code.in_(wanted))).all()
    )
    role.name_en, role.name_vi = data.name_en.strip(), data.name_vi.strip()
    role.text_en, role.text_vi = data.text_en.strip(), data.text_vi.strip() or None
    role.category = data.category
    # other keys of the details (set by the catalogue tooling or a later version) survive an edit
    role.details = {
        **(role.details or {}),
        "aliases": [a.strip() for a in data.aliases if a.strip()],
        "vi_source": "author",
    }
    session.execute(delete(SkillRoleStatement).where(SkillRoleStatement.role_id == role.id))
    _link(session, role.id, ids.values())
    identity.audit_record(session, actor, "skills.role.update", "skill_role", role.code)
    session.flush()
    session.expire(role)
    _matchers.clear()  # the statements changed but may keep the same count: the matcher's signature would not see it
    return role_detail(session, role.code)


def postings_naming_role(session: Session, code: str) -> list[tuple[int, str]]:
    """Stored postings whose ranked roles name a role: (organization id, posting id), for the delete check."""
    rows = session.execute(
        select(SkillPosting.org_id, SkillPosting.external_id, SkillPosting.best_role, SkillPosting.roles)
    )
    return [(org, ext) for org, ext, best, roles in rows if best == code or any(r.get("id") == code for r in roles)]


def delete_custom_role(session: Session, actor: Principal, code: str) -> None:
    """A coordinator deletes a custom role. Refused while stored job postings name it among their ranked roles
    (the market counts them under it): the error names them; delete or edit those postings first."""
    role = _custom(session, actor, code, N_("only coordinators delete custom work roles"))
    named = postings_naming_role(session, role.code)
    if named:
        orgs = {org: identity.get_org(session, org).name for org, _ext in named}
        listed = ", ".join(f"{orgs[org]}/{ext}" for org, ext in named[:10])
        raise Conflict(
            N_("%(code)s is named by %(count)s stored job posting(s) (%(postings)s): delete or edit them first"),
            where="code",
            code=role.code,
            count=len(named),
            postings=listed + (", …" if len(named) > 10 else ""),
        )
    identity.audit_record(session, actor, "skills.role.delete", "skill_role", role.code, name=role.name_en)
    session.delete(role)
    session.flush()
    _matchers.clear()


def _link(session: Session, role_id: int, statement_ids: Iterable[int]) -> None:
    rows = [{"role_id": role_id, "statement_id": s} for s in sorted(set(statement_ids))]
    if rows:
        session.execute(insert(SkillRoleStatement), rows)


def legacy_statements() -> dict[str, LegacyStatement]:
    """The shipped 2017 statement ids (``K0001``) with their v2.1.0 successors."""
    return {s.code: s for s in shipped().legacy_statements}


def resolve_statements(session: Session, codes: Iterable[str]) -> legacy_ids.Resolution:
    """Statement ids as people write them (current or 2017) onto the statements stored in the hub."""
    current = set(session.scalars(select(SkillStatement.code)))
    return legacy_ids.resolve(codes, current, legacy_statements())


def require_statements(session: Session, codes: Iterable[str], where: str) -> list[str]:
    """The current statement ids for ``codes``; an unknown id, or a 2017 id without a successor, is an error."""
    found = resolve_statements(session, codes)
    if found.unknown:
        raise InvalidInput(N_("unknown statement(s): %(codes)s"), where=where, codes=", ".join(found.unknown[:10]))
    if found.retired:
        raise InvalidInput(
            N_("2017 statement(s) with no NICE v2.1.0 successor: %(codes)s"),
            where=where,
            codes=", ".join(found.retired[:10]),
        )
    return found.codes


def _legacy_out(item: LegacyStatement) -> LegacyStatementOut:
    return LegacyStatementOut(
        code=item.code,
        kind=item.kind,
        text=item.text,
        successors=list(item.successors),
        method=item.method,
        score=item.score,
    )


def statement_lookup(session: Session, code: str) -> StatementLookup:
    """A statement by its current id or its 2017 id: the current statement(s), the roles holding them and the 2017
    statements mapped onto them."""
    _ensure_loaded(session)
    key = code.strip().upper()
    found = resolve_statements(session, [key])
    old = legacy_statements()
    if found.unknown:
        raise NotFound(N_("no statement %(code)s (neither NICE v2.1.0 nor 2017)"), code=key)
    asked_old = key not in (found.current.get(key) or ())
    codes = found.codes
    rows = session.scalars(select(SkillStatement).where(SkillStatement.code.in_(codes)).order_by(SkillStatement.code))
    holders: dict[str, list[RoleRef]] = {}
    if codes:
        for statement, role in session.execute(
            select(SkillStatement.code, SkillRole)
            .join(SkillRoleStatement, SkillRoleStatement.statement_id == SkillStatement.id)
            .join(SkillRole, SkillRole.id == SkillRoleStatement.role_id)
            .where(SkillStatement.code.in_(codes))
            .order_by(SkillRole.code)
        ):
            holders.setdefault(statement, []).append(RoleRef.model_validate(role, from_attributes=True))
    predecessors: dict[str, list[LegacyStatementOut]] = {}
    for item in old.values():
        for successor in item.successors:
            if successor in codes and item.code != successor:
                predecessors.setdefault(successor, []).append(_legacy_out(item))
    return StatementLookup(
        requested=key,
        legacy=_legacy_out(old[key]) if asked_old and key in old else None,
        statements=[
            StatementDetail(
                **StatementOut.model_validate(s).model_dump(),
                roles=holders.get(s.code, []),
                predecessors=predecessors.get(s.code, []),
            )
            for s in rows
        ],
    )


def glossary_terms(query: str = "") -> list[tuple[str, str]]:
    """The hub's Vietnamese–English glossary (the one matching and search use), sorted by the Vietnamese term;
    ``query`` keeps the entries whose Vietnamese or English contains it (accents and case set aside)."""
    wanted = fold(query.strip())
    terms = [(str(vi), str(en)) for vi, en in package_data("glossary.json")["terms"]]
    found = [(vi, en) for vi, en in terms if not wanted or wanted in fold(vi) or wanted in fold(en)]
    return sorted(found, key=lambda t: (fold(t[0]), t[0]))
