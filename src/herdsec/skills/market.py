"""Job postings and the market: match postings (optionally keeping them), demand against supply by role and
province, and team coverage for employers.

A stored posting is its organization's: its text is read back only by that organization and coordinators. The
market view shows counts only (how many postings per role and province), never another member's postings.
Supply is the graduates per year of each programme, shared equally among the three roles its courses read like
(the posting matcher run on the programme's course titles and outcomes).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.identity import Principal, Role
from herdsec.skills import programmes, service
from herdsec.skills.coverage import TeamCategory, team_by_category, team_coverage
from herdsec.skills.models import SkillPosting, SkillProgramme, SkillRole
from herdsec.skills.postings import plain
from herdsec.skills.schemas import (
    MarketCell,
    PostingIn,
    PostingMatch,
    RoleMatchOut,
    StatementHitOut,
    StoredPostings,
    TeamIn,
    TeamLineOut,
)

ROLES_PER_POSTING = 5
SUPPLY_ROLES = 3
UNKNOWN_PROVINCE = "—"


def match_postings(session: Session, items: list[PostingIn], limit: int = ROLES_PER_POSTING) -> list[PostingMatch]:
    m = service.matcher(session)
    out = []
    for item in items:
        result = m.match(item.title, plain(item.text), limit=max(limit, ROLES_PER_POSTING))
        out.append(
            PostingMatch(
                id=item.id,
                title=item.title,
                language=result.language,
                roles=[
                    RoleMatchOut(
                        id=r.code,
                        title=r.title,
                        title_vi=r.title_vi,
                        score=r.score,
                        statements=[StatementHitOut(**s.__dict__) for s in r.statements],
                        phrases=r.phrases,
                    )
                    for r in result.roles
                ],
                statements=[StatementHitOut(**s.__dict__) for s in result.statements],
            )
        )
    return out


def store_postings(session: Session, actor: Principal, items: list[PostingIn]) -> StoredPostings:
    """Match and keep postings under the caller's organization (same id again replaces the earlier one)."""
    if not actor.has_role(Role.ANALYST):
        raise PermissionDenied(N_("viewers cannot upload job postings"))
    ids = [i.id for i in items]
    if len(ids) != len(set(ids)):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InvalidInput(
            N_("duplicated id %(id)r (first on line %(first)s)"), where="postings", id=dup, first=ids.index(dup) + 1
        )
    matches = match_postings(session, items)
    existing = {
        p.external_id: p
        for p in session.scalars(
            select(SkillPosting).where(SkillPosting.org_id == actor.org_id, SkillPosting.external_id.in_(ids))
        )
    }
    for item, found in zip(items, matches, strict=True):
        values = _posting_values(item, found)
        row = existing.get(item.id)
        if row is None:
            session.add(SkillPosting(org_id=actor.org_id, external_id=item.id, **values))
        else:
            for k, v in values.items():
                setattr(row, k, v)
    session.flush()
    identity.audit_record(session, actor, "skills.postings.upload", "skill_posting", None, count=len(items))
    return StoredPostings(stored=len(items) - len(existing), replaced=len(existing), matches=matches)


def _posting_values(item: PostingIn, found: PostingMatch) -> dict[str, object]:
    return {
        "title": item.title,
        "text": item.text,
        "employer": item.employer,
        "province": item.province,
        "sector": item.sector,
        "posted_on": item.date,
        "language": found.language,
        "best_role": found.roles[0].id,
        "score": found.roles[0].score,
        "roles": [{"id": r.id, "score": r.score} for r in found.roles],
    }


POSTING_EDIT_REFUSED = N_("viewers cannot change job postings")


def get_posting(session: Session, actor: Principal, posting_id: int) -> SkillPosting:
    """A stored posting: its organization's members and coordinators read it; to others it does not exist."""
    row = session.get(SkillPosting, posting_id)
    if row is None or (row.org_id != actor.org_id and not actor.is_coordinator):
        raise NotFound(N_("no job posting with id %(id)s"), id=posting_id)
    return row


def may_change_posting(actor: Principal | None, row: SkillPosting) -> bool:
    """Its organization's analysts and admins, or a coordinator, may edit or delete a stored posting."""
    if actor is None:
        return False
    return actor.is_coordinator or (row.org_id == actor.org_id and actor.has_role(Role.ANALYST))


def _changeable(session: Session, actor: Principal, posting_id: int) -> SkillPosting:
    row = get_posting(session, actor, posting_id)
    if not may_change_posting(actor, row):
        raise PermissionDenied(POSTING_EDIT_REFUSED)
    return row


def update_posting(session: Session, actor: Principal, posting_id: int, item: PostingIn) -> PostingMatch:
    """Change a stored posting (its id too, within its organization) and match it again."""
    row = _changeable(session, actor, posting_id)
    clash = session.scalar(
        select(SkillPosting.id).where(
            SkillPosting.org_id == row.org_id, SkillPosting.external_id == item.id, SkillPosting.id != row.id
        )
    )
    if clash is not None:
        raise Conflict(N_("another posting of the organization has the id %(id)r"), where="id", id=item.id)
    found = match_postings(session, [item])[0]
    row.external_id = item.id
    for k, v in _posting_values(item, found).items():
        setattr(row, k, v)
    session.flush()
    identity.audit_record(session, actor, "skills.posting.update", "skill_posting", row.id, target_org_id=row.org_id)
    return found


def delete_posting(session: Session, actor: Principal, posting_id: int) -> None:
    row = _changeable(session, actor, posting_id)
    identity.audit_record(
        session, actor, "skills.posting.delete", "skill_posting", row.id, target_org_id=row.org_id, title=row.title
    )
    session.delete(row)
    session.flush()


def posting_in(row: SkillPosting) -> PostingIn:
    """A stored posting as the upload shape (to prefill an edit form)."""
    return PostingIn(
        id=row.external_id,
        title=row.title,
        text=row.text,
        employer=row.employer,
        province=row.province,
        sector=row.sector,
        date=row.posted_on,
    )


def list_postings(session: Session, actor: Principal, limit: int = 100) -> list[SkillPosting]:
    """The caller's organization's postings (coordinators: every posting), newest first."""
    query = select(SkillPosting).order_by(SkillPosting.id.desc()).limit(limit)
    if not actor.is_coordinator:
        query = query.where(SkillPosting.org_id == actor.org_id)
    return list(session.scalars(query))


def _filters(
    province: str | None, sector: str | None, since: date | None, until: date | None
) -> list[ColumnElement[bool]]:
    """The market's filters on postings (the heatmap and the tables beside it must select the same postings)."""
    conditions: list[ColumnElement[bool]] = []
    if province:
        conditions.append(SkillPosting.province == province)
    if sector:
        conditions.append(SkillPosting.sector == sector)
    if since:
        conditions.append(SkillPosting.posted_on >= since)
    if until:
        conditions.append(SkillPosting.posted_on <= until)
    return conditions


def market(
    session: Session,
    *,
    province: str | None = None,
    sector: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[MarketCell]:
    """Demand (postings) against supply (graduates per year) by role and province; biggest gap first."""
    query = select(SkillPosting.best_role, SkillPosting.province, func.count()).group_by(
        SkillPosting.best_role, SkillPosting.province
    )
    query = query.where(*_filters(province, sector, since, until))
    demand: dict[tuple[str, str], int] = defaultdict(int)
    for role, prov, count in session.execute(query):
        demand[(role, prov or UNKNOWN_PROVINCE)] += count
    supply: dict[tuple[str, str], float] = defaultdict(float)
    for p in programmes.list_programmes(session):
        prov = p.province or UNKNOWN_PROVINCE
        if (province and prov != province) or not p.graduates_per_year:
            continue
        best = [r.id for r in programmes.programme_roles(session, p.id, limit=SUPPLY_ROLES) if r.score > 0]
        for code in best:
            supply[(code, prov)] += p.graduates_per_year / len(best)
    names = {
        code: (en, vi) for code, en, vi in session.execute(select(SkillRole.code, SkillRole.name_en, SkillRole.name_vi))
    }
    cells = [
        MarketCell(
            role=role,
            name_en=names.get(role, (role, None))[0],
            name_vi=names.get(role, (role, None))[1],
            province=prov,
            demand=demand.get((role, prov), 0),
            supply=round(supply.get((role, prov), 0.0), 1),
            gap=round(demand.get((role, prov), 0) - supply.get((role, prov), 0.0), 1),
        )
        for role, prov in sorted(set(demand) | set(supply))
    ]
    cells.sort(key=lambda c: (-c.gap, c.role, c.province))
    return cells


def demand_by(
    session: Session,
    dimension: str,
    *,
    province: str | None = None,
    sector: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, dict[str, int]]:
    """Postings per best role and sector (``dimension='sector'``) or month (``'month'``, ``YYYY-MM``), with the
    same filters as :func:`market`."""
    if dimension not in ("sector", "month"):
        raise InvalidInput(N_("break demand down by sector or month"), where="dimension")
    query = select(SkillPosting.best_role, SkillPosting.sector, SkillPosting.posted_on)
    query = query.where(*_filters(province, sector, since, until))
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for role, sector, posted_on in session.execute(query):
        if dimension == "sector":
            key = sector or UNKNOWN_PROVINCE
        else:
            key = posted_on.strftime("%Y-%m") if posted_on else UNKNOWN_PROVINCE
        out[role][key] += 1
    return {role: dict(columns) for role, columns in sorted(out.items())}


def choices(session: Session) -> tuple[list[str], list[str]]:
    """The provinces (of postings and programmes) and the sectors (of postings) the market can be filtered by."""
    provinces = {p for p in session.scalars(select(SkillPosting.province).distinct()) if p}
    provinces |= {p for p in session.scalars(select(SkillProgramme.province).distinct()) if p}
    sectors = {s for s in session.scalars(select(SkillPosting.sector).distinct()) if s}
    return sorted(provinces), sorted(sectors)


def role_demand(session: Session, role_code: str) -> int:
    """How many stored postings have this role as their best match (all members, counts only)."""
    return (
        session.scalar(select(func.count()).select_from(SkillPosting).where(SkillPosting.best_role == role_code)) or 0
    )


def market_csv(cells: list[MarketCell]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["role", "name_en", "name_vi", "province", "demand", "supply", "gap"])
    for c in cells:
        writer.writerow([c.role, c.name_en, c.name_vi or "", c.province, c.demand, c.supply, c.gap])
    return buffer.getvalue()


def _team_inputs(
    session: Session, data: TeamIn
) -> tuple[dict[str, list[str]], dict[str, str], dict[str, tuple[str, str | None, str]]]:
    """The role → statements and statement → kind maps and each role's (name_en, name_vi, category), once the
    team's roles are checked."""
    roles = programmes.role_map(session)
    unknown = sorted({*data.needed, *data.team} - set(roles))
    if unknown:
        raise InvalidInput(N_("unknown work role(s): %(codes)s"), where="team", codes=", ".join(unknown[:10]))
    bad = [code for code, n in data.team.items() if n < 0]
    if bad:
        raise InvalidInput(N_("a headcount cannot be negative"), where=f"team.{bad[0]}")
    info = {
        code: (en, vi, cat or "")
        for code, en, vi, cat in session.execute(
            select(SkillRole.code, SkillRole.name_en, SkillRole.name_vi, SkillRole.category)
        )
    }
    return roles, programmes.kind_map(session), info


def team(session: Session, data: TeamIn) -> list[TeamLineOut]:
    """An employer's team against the roles it needs: covered, train (someone is close) or hire."""
    roles, kinds, info = _team_inputs(session, data)
    lines = team_coverage(
        list(dict.fromkeys(data.needed)), data.team, roles, kinds, {code: v[2] for code, v in info.items()}
    )
    return [
        TeamLineOut(
            code=line.code,
            name_en=info[line.code][0],
            name_vi=info[line.code][1],
            category=line.category,
            tasks=line.tasks,
            knowledge_skills=line.knowledge_skills,
            share=line.share,
            advice=line.advice,
            closest=line.closest,
        )
        for line in lines
    ]


def team_categories(session: Session, data: TeamIn) -> list[TeamCategory]:
    """Per category of the needed roles: the distinct tasks, knowledge and skills the team covers."""
    roles, kinds, info = _team_inputs(session, data)
    return team_by_category(data.needed, data.team, roles, kinds, {code: v[2] for code, v in info.items()})
