"""Pydantic shapes of the skills module (API bodies and service results)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Relation = Literal["equivalent", "broader", "narrower", "related"]
StatementKind = Literal["task", "knowledge", "skill"]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class GroupOut(_Out):
    code: str
    kind: str
    version: str
    name_en: str
    name_vi: str | None
    text_en: str
    text_vi: str | None = None


class RoleSummary(_Out):
    code: str
    framework: str
    version: str
    category: str | None
    name_en: str
    name_vi: str | None
    text_en: str
    text_vi: str | None = None


class StatementOut(_Out):
    code: str
    kind: str
    version: str
    text_en: str
    text_vi: str | None = None


class LegacyStatementOut(BaseModel):
    """A 2017 (SP 800-181) statement and how the hub mapped it onto v2.1.0 (``same-id``, ``same-text``,
    ``similar-text`` with its score, or ``none``)."""

    code: str
    kind: str
    text: str
    successors: list[str]
    method: str
    score: float | None = None


class RoleRef(BaseModel):
    code: str
    framework: str
    name_en: str
    name_vi: str | None


class StatementDetail(StatementOut):
    roles: list[RoleRef]
    predecessors: list[LegacyStatementOut] = Field(
        default_factory=list, description="The 2017 statements the hub maps onto this one."
    )


class StatementLookup(BaseModel):
    requested: str
    legacy: LegacyStatementOut | None = Field(None, description="Set when the id asked for is a 2017 id.")
    statements: list[StatementDetail] = Field(description="The current statement(s); empty for a retired 2017 id.")


class CrosswalkOut(BaseModel):
    code: str
    framework: str
    name_en: str
    name_vi: str | None
    relation: Relation
    rationale_en: str
    rationale_vi: str


class RoleDetail(RoleSummary):
    opm_codes: list[str]
    legacy_codes: list[str]
    resolved_from: str | None = Field(None, description="The older (2017) id the request named, when it did.")
    vi_source: str | None = Field(None, description="Who translated the Vietnamese name (the hub's own).")
    details: dict[str, object] = Field(default_factory=dict)
    tasks: list[StatementOut]
    knowledge: list[StatementOut]
    skills: list[StatementOut]
    crosswalk: list[CrosswalkOut]


class LoadReport(BaseModel):
    version: str
    categories: int
    competency_areas: int
    work_roles: int
    ecsf_profiles: int
    statements: int
    links: int
    crosswalk: int
    created: int
    updated: int


class CustomRoleEdit(BaseModel):
    """A custom role's new content (its code does not change: postings and links name it)."""

    name_en: str = Field(min_length=2, max_length=200)
    name_vi: str = Field(min_length=2, max_length=200)
    text_en: str = Field("", max_length=4000)
    text_vi: str = Field("", max_length=4000)
    category: str | None = Field(None, max_length=40)
    statements: list[str] = Field(default_factory=list, max_length=500)
    aliases: list[str] = Field(default_factory=list, max_length=50)


class CustomRoleIn(CustomRoleEdit):
    """A new custom role: its content and its code."""

    code: str = Field(min_length=3, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9-]+$")


MAX_POSTING_CHARS = 50_000


class PostingIn(BaseModel):
    id: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=MAX_POSTING_CHARS)
    employer: str | None = Field(None, max_length=200)
    province: str | None = Field(None, max_length=80)
    sector: str | None = Field(None, max_length=80)
    date: dt.date | None = None

    @field_validator("id", "title", "text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class StatementHitOut(BaseModel):
    code: str
    kind: str
    text: str
    score: float


class RoleMatchOut(BaseModel):
    id: str
    title: str
    title_vi: str | None
    score: float
    statements: list[StatementHitOut]
    phrases: list[str]


class PostingMatch(BaseModel):
    id: str
    title: str
    language: str
    roles: list[RoleMatchOut]
    statements: list[StatementHitOut]


class MatchRequest(BaseModel):
    postings: list[PostingIn] = Field(min_length=1, max_length=1000)
    store: bool = Field(False, description="Keep the postings for the market view (under the caller's organization).")


class SearchHit(BaseModel):
    code: str
    kind: str
    text_en: str
    score: float
    roles: list[str]


class CourseIn(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    outcomes: list[str] = Field(min_length=1, max_length=100)


class ProgrammeIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    province: str | None = Field(None, max_length=80)
    graduates_per_year: int = Field(0, ge=0, le=100_000)
    courses: list[CourseIn] = Field(min_length=1, max_length=200)


class CourseOut(_Out):
    id: int
    code: str
    title: str
    outcomes: str
    statements: list[str]


class ProgrammeOut(BaseModel):
    id: int
    org_id: int
    org_name: str
    name: str
    province: str | None
    graduates_per_year: int
    courses: list[CourseOut]


class CoverageOut(BaseModel):
    code: str
    name_en: str
    name_vi: str | None
    share: float
    covered: int
    total: int
    tasks: tuple[int, int]
    knowledge: tuple[int, int]
    skills: tuple[int, int]


class GapOut(BaseModel):
    role: str
    covered: list[StatementOut]
    missing: list[StatementOut]


class ProfileIn(BaseModel):
    ratings: dict[str, int] = Field(default_factory=dict, description="Statement code → self-rating 0 (none) to 4.")
    certifications: list[str] = Field(default_factory=list, max_length=50)
    courses: list[int] = Field(default_factory=list, max_length=200, description="Ids of hub courses taken.")
    target: str | None = Field(None, description="The role to reach (its code).")


class CourseStepOut(BaseModel):
    course_id: int
    title: str
    programme: str
    covers: list[str]


class ProfileOut(BaseModel):
    statements: list[str]
    resolved: dict[str, list[str]] = Field(
        default_factory=dict, description="2017 statement ids rated → the v2.1.0 statements they count for."
    )
    unmapped: list[str] = Field(default_factory=list, description="2017 statement ids with no v2.1.0 successor.")
    unknown_certifications: list[str]
    fit: list[CoverageOut]
    target: str | None
    missing: list[StatementOut]
    courses: list[CourseStepOut]
    not_taught: list[str]


class TeamIn(BaseModel):
    team: dict[str, int] = Field(description="Role code → headcount of the roles the team has.")
    needed: list[str] = Field(min_length=1, max_length=41, description="The roles the organization needs.")


class TeamLineOut(BaseModel):
    code: str
    name_en: str
    name_vi: str | None
    category: str
    tasks: tuple[int, int]
    knowledge_skills: tuple[int, int]
    share: float
    advice: str
    closest: str | None


class MarketCell(BaseModel):
    role: str
    name_en: str
    name_vi: str | None
    province: str
    demand: int
    supply: float
    gap: float


class StoredPostings(BaseModel):
    stored: int
    replaced: int
    matches: list[PostingMatch]


class StoredPostingOut(_Out):
    """A stored job posting (``id`` is the hub's; ``external_id`` the uploader's)."""

    id: int
    org_id: int
    external_id: str
    title: str
    text: str
    employer: str | None
    province: str | None
    sector: str | None
    posted_on: dt.date | None
    language: str
    best_role: str
    score: float
