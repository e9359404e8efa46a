"""Curricula and people: a programme's courses mapped onto statements, its coverage of each role and the gaps toward
one; a person's fit per role and the shortest path (missing statements, hub courses) to a target role.

Programmes are public within the hub (every member may read them); only members of the uploading organization (or
coordinators) change them.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.identity import Principal, Role
from herdsec.skills import service
from herdsec.skills.catalogue import package_data
from herdsec.skills.coverage import RoleCoverage, role_coverage, shortest_path
from herdsec.skills.legacy import tagged_ids
from herdsec.skills.matching import analyse
from herdsec.skills.models import SkillCourse, SkillProgramme, SkillRole, SkillRoleStatement, SkillStatement
from herdsec.skills.postings import decode
from herdsec.skills.schemas import (
    CourseIn,
    CourseOut,
    CourseStepOut,
    CoverageOut,
    GapOut,
    ProfileIn,
    ProfileOut,
    ProgrammeIn,
    ProgrammeOut,
    RoleMatchOut,
    StatementOut,
)

PER_OUTCOME = 10
RELATIVE = 0.5  # keep statements scoring at least this share of the outcome's best one
EDIT_REFUSED = N_("only the uploading organization or a coordinator may edit a programme")
RATED = 2  # a self-rating from this level on counts as having the statement


def role_map(session: Session, frameworks: tuple[str, ...] = ("nice", "custom")) -> dict[str, list[str]]:
    rows = session.execute(
        select(SkillRole.code, SkillStatement.code)
        .join(SkillRoleStatement, SkillRoleStatement.role_id == SkillRole.id)
        .join(SkillStatement, SkillStatement.id == SkillRoleStatement.statement_id)
        .where(SkillRole.framework.in_(frameworks))
        .order_by(SkillRole.code, SkillStatement.code)
    )
    out: dict[str, list[str]] = {}
    for role, statement in rows:
        out.setdefault(role, []).append(statement)
    return out


def kind_map(session: Session) -> dict[str, str]:
    return dict(session.execute(select(SkillStatement.code, SkillStatement.kind)).all())


def statements_of_text(session: Session, texts: list[str]) -> list[str]:
    """The statements that a list of texts (learning outcomes, a certification's description) evidences."""
    m = service.matcher(session)
    found: list[str] = []
    for text in texts:
        hits = m.statement_hits(Counter(analyse(text, m.glossary).terms), limit=PER_OUTCOME)
        if hits:
            best = hits[0].score
            found += [h.code for h in hits if h.score >= best * RELATIVE]
    return sorted(set(found))


COURSE_COLUMNS = ("course_code", "course_title", "outcome")


def read_courses_csv(data: bytes, name: str) -> list[CourseIn]:
    """Courses from a spreadsheet export: one row per learning outcome, columns course_code, course_title, outcome
    (UTF-8 with or without BOM, or UTF-16); rows of one course are gathered in order."""
    text = decode(data, name)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COURSE_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            N_("CSV header lacks the column(s) %(columns)s"), where=f"{name}:1", columns=", ".join(missing)
        )
    reader.fieldnames = header
    courses: dict[str, CourseIn] = {}
    for row in reader:
        where = f"{name}:{reader.line_num}"
        code, title, outcome = (str(row.get(c) or "").strip() for c in COURSE_COLUMNS)
        if not (code and title and outcome):
            empty = [c for c, v in zip(COURSE_COLUMNS, (code, title, outcome), strict=True) if not v]
            raise InvalidInput(N_("missing or empty: %(columns)s"), where=where, columns=", ".join(empty))
        course = courses.get(code)
        if course is None:
            courses[code] = CourseIn(code=code, title=title, outcomes=[outcome])
        elif course.title != title:
            raise InvalidInput(N_("course %(code)s has two titles"), where=where, code=code)
        else:
            course.outcomes.append(outcome)
    if not courses:
        raise InvalidInput(N_("the file holds no course"), where=name)
    return list(courses.values())


def _out(session: Session, p: SkillProgramme) -> ProgrammeOut:
    org = identity.get_org(session, p.org_id)
    return ProgrammeOut(
        id=p.id,
        org_id=p.org_id,
        org_name=org.name,
        name=p.name,
        province=p.province,
        graduates_per_year=p.graduates_per_year,
        courses=[CourseOut.model_validate(c) for c in p.courses],
    )


def create_programme(session: Session, actor: Principal, data: ProgrammeIn) -> ProgrammeOut:
    """Store a programme under the caller's organization; each course's outcomes are mapped onto statements."""
    if not actor.has_role(Role.ANALYST):
        raise PermissionDenied(N_("viewers cannot upload programmes"))
    codes = [c.code for c in data.courses]
    dup = next((c for c, n in Counter(codes).items() if n > 1), None)
    if dup:
        raise InvalidInput(N_("duplicated course code %(code)r"), where="courses", code=dup)
    exists = session.scalar(
        select(SkillProgramme.id).where(SkillProgramme.org_id == actor.org_id, SkillProgramme.name == data.name)
    )
    if exists is not None:
        raise Conflict(N_("your organization already has a programme named %(name)r"), where="name", name=data.name)
    programme = SkillProgramme(
        org_id=actor.org_id, name=data.name, province=data.province, graduates_per_year=data.graduates_per_year
    )
    for course in data.courses:
        programme.courses.append(_course(session, course))
    session.add(programme)
    session.flush()
    identity.audit_record(session, actor, "skills.programme.create", "skill_programme", programme.id)
    return _out(session, programme)


def _course(session: Session, course: CourseIn) -> SkillCourse:
    """A course whose outcomes are mapped onto statements by their text, plus the ids an outcome is tagged with
    (``[K0001, T0084]``, current or 2017 ids)."""
    outcomes = [o.strip() for o in course.outcomes if o.strip()]
    tagged = [code for o in outcomes for code in tagged_ids(o)]
    listed = service.require_statements(session, tagged, f"courses.{course.code}") if tagged else []
    return SkillCourse(
        code=course.code,
        title=course.title,
        outcomes="\n".join(outcomes),
        statements=sorted(set(listed) | set(statements_of_text(session, [f"{course.title}. {o}" for o in outcomes]))),
    )


def _owned(session: Session, actor: Principal, programme_id: int, refusal: str) -> SkillProgramme:
    """A programme the caller may change: its organization's analysts and admins, or a coordinator."""
    programme = session.get(SkillProgramme, programme_id)
    if programme is None:
        raise NotFound(N_("no programme with id %(id)s"), id=programme_id)
    if not actor.is_coordinator and (programme.org_id != actor.org_id or not actor.has_role(Role.ANALYST)):
        raise PermissionDenied(refusal)
    return programme


def may_change(actor: Principal | None, programme: ProgrammeOut) -> bool:
    if actor is None:
        return False
    return actor.is_coordinator or (programme.org_id == actor.org_id and actor.has_role(Role.ANALYST))


def update_programme(session: Session, actor: Principal, programme_id: int, data: ProgrammeIn) -> ProgrammeOut:
    """Replace a programme's name, province, graduates and courses (the courses get new ids; people's course
    choices are not stored, so nothing else points at the old ones)."""
    programme = _owned(session, actor, programme_id, EDIT_REFUSED)
    codes = [c.code for c in data.courses]
    dup = next((c for c, n in Counter(codes).items() if n > 1), None)
    if dup:
        raise InvalidInput(N_("duplicated course code %(code)r"), where="courses", code=dup)
    clash = session.scalar(
        select(SkillProgramme.id).where(
            SkillProgramme.org_id == programme.org_id,
            SkillProgramme.name == data.name,
            SkillProgramme.id != programme.id,
        )
    )
    if clash is not None:
        raise Conflict(N_("your organization already has a programme named %(name)r"), where="name", name=data.name)
    courses = [_course(session, c) for c in data.courses]
    programme.name, programme.province = data.name, data.province
    programme.graduates_per_year = data.graduates_per_year
    programme.courses.clear()
    session.flush()
    programme.courses.extend(courses)
    session.flush()
    identity.audit_record(session, actor, "skills.programme.update", "skill_programme", programme.id)
    return _out(session, programme)


def delete_programme(session: Session, actor: Principal, programme_id: int) -> None:
    """Delete a programme and its courses; market supply and course suggestions stop counting it at once."""
    programme = _owned(
        session, actor, programme_id, N_("only the uploading organization or a coordinator may delete a programme")
    )
    identity.audit_record(
        session, actor, "skills.programme.delete", "skill_programme", programme.id, name=programme.name
    )
    session.delete(programme)
    session.flush()


def list_programmes(session: Session) -> list[ProgrammeOut]:
    return [_out(session, p) for p in session.scalars(select(SkillProgramme).order_by(SkillProgramme.id))]


def get_programme(session: Session, programme_id: int) -> ProgrammeOut:
    programme = session.get(SkillProgramme, programme_id)
    if programme is None:
        raise NotFound(N_("no programme with id %(id)s"), id=programme_id)
    return _out(session, programme)


def _coverage_out(session: Session, items: list[RoleCoverage]) -> list[CoverageOut]:
    names = {
        code: (en, vi) for code, en, vi in session.execute(select(SkillRole.code, SkillRole.name_en, SkillRole.name_vi))
    }
    return [
        CoverageOut(
            code=c.code,
            name_en=names[c.code][0],
            name_vi=names[c.code][1],
            share=c.share,
            covered=c.covered,
            total=c.total,
            tasks=c.by_kind["task"],
            knowledge=c.by_kind["knowledge"],
            skills=c.by_kind["skill"],
        )
        for c in items
    ]


def programme_coverage(session: Session, programme_id: int) -> list[CoverageOut]:
    """Every role, best covered first: which roles the programme prepares for."""
    programme = get_programme(session, programme_id)
    covered = {s for c in programme.courses for s in c.statements}
    return _coverage_out(session, role_coverage(covered, role_map(session), kind_map(session)))


def programme_roles(session: Session, programme_id: int, limit: int = 5) -> list[RoleMatchOut]:
    """The roles whose names, descriptions and statements the programme's course titles and outcomes read like
    (the same matcher as for job postings): the roles a graduate would apply for."""
    programme = get_programme(session, programme_id)
    text = "\n".join(f"{c.title}. {c.outcomes}" for c in programme.courses)
    result = service.matcher(session).match(programme.name, text, limit=limit)
    return [
        RoleMatchOut(id=r.code, title=r.title, title_vi=r.title_vi, score=r.score, statements=[], phrases=r.phrases)
        for r in result.roles
    ]


def programmes_for_role(session: Session, role_code: str, limit: int = 5) -> list[tuple[ProgrammeOut, float]]:
    """The programmes that cover most of one role's statements (share of the role covered), best first."""
    own = set(role_map(session).get(role_code, []))
    if not own:
        return []
    scored = []
    for p in list_programmes(session):
        covered = own & {s for c in p.courses for s in c.statements}
        if covered:
            scored.append((p, round(len(covered) / len(own), 3)))
    scored.sort(key=lambda ps: (-ps[1], ps[0].id))
    return scored[:limit]


def _statements(session: Session, codes: list[str]) -> list[StatementOut]:
    if not codes:
        return []
    rows = session.scalars(select(SkillStatement).where(SkillStatement.code.in_(codes)).order_by(SkillStatement.code))
    return [StatementOut.model_validate(s) for s in rows]


def programme_gaps(session: Session, programme_id: int, role_code: str) -> GapOut:
    """What the programme covers of one role, and what it misses."""
    programme = get_programme(session, programme_id)
    role, _old = service.find_role(session, role_code)
    own = set(role_map(session).get(role.code, []))
    covered = own & {s for c in programme.courses for s in c.statements}
    return GapOut(
        role=role.code,
        covered=_statements(session, sorted(covered)),
        missing=_statements(session, sorted(own - covered)),
    )


def certification_statements(session: Session, names: list[str]) -> tuple[list[str], list[str]]:
    """Statements evidenced by certifications (the hub's list), and the names it does not know."""
    known = {k.lower(): v for k, v in package_data("certifications.json")["certifications"].items()}
    texts, unknown = [], []
    for name in names:
        text = known.get(name.strip().lower())
        if text is None:
            unknown.append(name)
        else:
            texts.append(text)
    return statements_of_text(session, texts), unknown


def profile(session: Session, data: ProfileIn) -> ProfileOut:
    """A person's fit per role and, for a target role, the missing statements and the hub courses that teach them."""
    kinds = kind_map(session)
    found = service.resolve_statements(session, data.ratings)
    if found.unknown:
        raise InvalidInput(N_("unknown statement(s): %(codes)s"), where="ratings", codes=", ".join(found.unknown[:10]))
    out_of_range = [code for code, level in data.ratings.items() if not 0 <= level <= 4]
    if out_of_range:
        raise InvalidInput(N_("ratings go from 0 to 4"), where=f"ratings.{out_of_range[0]}")
    # A 2017 id counts for its v2.1.0 successor(s); a current id rated directly wins over a 2017 one.
    levels: dict[str, int] = {}
    for code, level in sorted(data.ratings.items(), key=lambda cl: cl[0].strip().upper() in kinds):
        for current in found.current.get(code.strip().upper(), ()):
            levels[current] = level
    have = {code for code, level in levels.items() if level >= RATED}
    from_certs, unknown = certification_statements(session, data.certifications)
    have |= set(from_certs)
    courses = session.scalars(select(SkillCourse).where(SkillCourse.id.in_(data.courses))).all() if data.courses else []
    missing_courses = sorted(set(data.courses) - {c.id for c in courses})
    if missing_courses:
        raise InvalidInput(N_("no course with id %(id)s"), where="courses", id=missing_courses[0])
    for course in courses:
        have |= set(course.statements)
    roles = role_map(session)
    fit = _coverage_out(session, role_coverage(have, roles, kinds))
    target = None
    missing: list[StatementOut] = []
    steps: list[CourseStepOut] = []
    not_taught: list[str] = []
    if data.target:
        role, _old = service.find_role(session, data.target)
        if role.code not in roles:
            raise InvalidInput(N_("%(code)s has no statements to reach"), where="target", code=role.code)
        target = role.code
        catalogue = [
            (c.id, c.title, c.programme.name, c.statements)
            for c in session.scalars(select(SkillCourse).order_by(SkillCourse.id))
            if c.id not in data.courses
        ]
        path = shortest_path(role.code, have, roles, catalogue)
        missing = _statements(session, path.missing)
        steps = [
            CourseStepOut(course_id=s.course_id, title=s.title, programme=s.programme, covers=s.covers)
            for s in path.courses
        ]
        not_taught = path.uncovered
    return ProfileOut(
        statements=sorted(have),
        resolved={k: list(v) for k, v in found.current.items() if v != (k,)},
        unmapped=list(found.retired),
        unknown_certifications=unknown,
        fit=fit,
        target=target,
        missing=missing,
        courses=steps,
        not_taught=not_taught,
    )
