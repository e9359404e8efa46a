"""JSON API of the skills module, under ``/api/v1/skills``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from herdsec.identity import Principal
from herdsec.skills import market, programmes, service
from herdsec.skills.schemas import (
    CoverageOut,
    CustomRoleEdit,
    CustomRoleIn,
    GapOut,
    GroupOut,
    MarketCell,
    MatchRequest,
    PostingIn,
    PostingMatch,
    ProfileIn,
    ProfileOut,
    ProgrammeIn,
    ProgrammeOut,
    RoleDetail,
    RoleSummary,
    SearchHit,
    StatementLookup,
    StoredPostingOut,
    StoredPostings,
    TeamIn,
    TeamLineOut,
)
from herdsec.web.deps import api_principal, transaction

router = APIRouter(prefix="/skills", tags=["skills"])
Caller = Annotated[Principal, Depends(api_principal)]


@router.get("/groups", response_model=list[GroupOut], summary="NICE categories and competency areas")
def groups(
    request: Request, caller: Caller, kind: Annotated[str | None, Query(pattern="^(category|competency_area)$")] = None
) -> list[GroupOut]:
    with transaction(request) as s:
        return service.list_groups(s, kind)


@router.get("/roles", response_model=list[RoleSummary], summary="Work roles (NICE, ECSF, custom)")
def roles(
    request: Request,
    caller: Caller,
    framework: Annotated[str | None, Query(pattern="^(nice|ecsf|custom)$")] = None,
    category: str | None = None,
) -> list[RoleSummary]:
    with transaction(request) as s:
        return service.list_roles(s, framework, category)


@router.post("/roles", response_model=RoleDetail, status_code=201, summary="Add a custom work role (coordinators)")
def create_role(request: Request, caller: Caller, body: CustomRoleIn) -> RoleDetail:
    with transaction(request) as s:
        return service.create_custom_role(s, caller, body)


@router.put("/roles/{code}", response_model=RoleDetail, summary="Change a custom work role (coordinators)")
def update_role(request: Request, caller: Caller, code: str, body: CustomRoleEdit) -> RoleDetail:
    with transaction(request) as s:
        return service.update_custom_role(s, caller, code, body)


@router.delete("/roles/{code}", status_code=204, summary="Delete a custom work role (coordinators)")
def delete_role(request: Request, caller: Caller, code: str) -> Response:
    """Refused (409, the postings named) while stored job postings rank the role."""
    with transaction(request) as s:
        service.delete_custom_role(s, caller, code)
    return Response(status_code=204)


@router.get("/roles/{code}", response_model=RoleDetail, summary="A role with its statements and crosswalk")
def role(request: Request, caller: Caller, code: str) -> RoleDetail:
    """Accepts the 2017 work-role ids too (``SP-RSK-002`` → the role that took over its OPM code)."""
    with transaction(request) as s:
        return service.role_detail(s, code)


@router.get("/crosswalk", summary="The typed NICE ↔ ECSF crosswalk")
def crosswalk(request: Request, caller: Caller) -> list[dict[str, str]]:
    with transaction(request) as s:
        rows = service.crosswalk(s)
    keys = ("ecsf", "nice", "relation", "rationale_en", "rationale_vi")
    return [dict(zip(keys, row, strict=True)) for row in rows]


@router.get("/statements", response_model=list[SearchHit], summary="Search statements in Vietnamese or English")
def search(
    request: Request,
    caller: Caller,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    kind: Annotated[str | None, Query(pattern="^(task|knowledge|skill)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
) -> list[SearchHit]:
    with transaction(request) as s:
        return service.search_statements(s, q, kind, limit)


@router.get("/statements/{code}", response_model=StatementLookup, summary="A statement by its v2.1.0 or 2017 id")
def statement(request: Request, caller: Caller, code: str) -> StatementLookup:
    """A 2017 id (``K0001``) answers with its v2.1.0 successor(s) and how the hub derived the mapping."""
    with transaction(request) as s:
        return service.statement_lookup(s, code)


@router.post("/match", response_model=list[PostingMatch], summary="Rank work roles for job postings")
def match(request: Request, caller: Caller, body: MatchRequest) -> list[PostingMatch]:
    """Best role first, at least five roles per posting, with the statements and phrases that matched."""
    with transaction(request) as s:
        if body.store:
            return market.store_postings(s, caller, body.postings).matches
        return market.match_postings(s, body.postings)


@router.post("/postings", response_model=StoredPostings, summary="Match and keep job postings (market demand)")
def post_postings(request: Request, caller: Caller, body: MatchRequest) -> StoredPostings:
    with transaction(request) as s:
        return market.store_postings(s, caller, body.postings)


@router.get("/postings", response_model=list[StoredPostingOut], summary="Your organization's stored postings")
def list_postings(
    request: Request, caller: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[StoredPostingOut]:
    with transaction(request) as s:
        return [StoredPostingOut.model_validate(p) for p in market.list_postings(s, caller, limit)]


@router.put("/postings/{posting_id}", response_model=PostingMatch, summary="Change a stored posting (re-matched)")
def update_posting(request: Request, caller: Caller, posting_id: int, body: PostingIn) -> PostingMatch:
    with transaction(request) as s:
        return market.update_posting(s, caller, posting_id, body)


@router.delete("/postings/{posting_id}", status_code=204, summary="Delete a stored posting")
def delete_posting(request: Request, caller: Caller, posting_id: int) -> Response:
    with transaction(request) as s:
        market.delete_posting(s, caller, posting_id)
    return Response(status_code=204)


@router.get("/programmes", response_model=list[ProgrammeOut], summary="Training programmes in the hub")
def list_programmes(request: Request, caller: Caller) -> list[ProgrammeOut]:
    with transaction(request) as s:
        return programmes.list_programmes(s)


@router.post("/programmes", response_model=ProgrammeOut, status_code=201, summary="Upload a programme")
def create_programme(request: Request, caller: Caller, body: ProgrammeIn) -> ProgrammeOut:
    with transaction(request) as s:
        return programmes.create_programme(s, caller, body)


@router.put("/programmes/{programme_id}", response_model=ProgrammeOut, summary="Replace a programme")
def update_programme(request: Request, caller: Caller, programme_id: int, body: ProgrammeIn) -> ProgrammeOut:
    with transaction(request) as s:
        return programmes.update_programme(s, caller, programme_id, body)


@router.delete("/programmes/{programme_id}", status_code=204, summary="Delete a programme")
def delete_programme(request: Request, caller: Caller, programme_id: int) -> Response:
    with transaction(request) as s:
        programmes.delete_programme(s, caller, programme_id)
    return Response(status_code=204)


@router.get("/programmes/{programme_id}/coverage", response_model=list[CoverageOut], summary="Role coverage")
def coverage(request: Request, caller: Caller, programme_id: int) -> list[CoverageOut]:
    with transaction(request) as s:
        return programmes.programme_coverage(s, programme_id)


@router.get("/programmes/{programme_id}/gaps/{role}", response_model=GapOut, summary="Gaps toward one role")
def gaps(request: Request, caller: Caller, programme_id: int, role: str) -> GapOut:
    with transaction(request) as s:
        return programmes.programme_gaps(s, programme_id, role)


@router.post("/profile", response_model=ProfileOut, summary="A person's fit per role and path to a target")
def profile(request: Request, caller: Caller, body: ProfileIn) -> ProfileOut:
    with transaction(request) as s:
        return programmes.profile(s, body)


@router.post("/team", response_model=list[TeamLineOut], summary="A team's coverage of the roles it needs")
def team(request: Request, caller: Caller, body: TeamIn) -> list[TeamLineOut]:
    with transaction(request) as s:
        return market.team(s, body)


@router.get("/market", response_model=list[MarketCell], summary="Demand against supply by role and province")
def market_cells(
    request: Request,
    caller: Caller,
    province: str | None = None,
    sector: str | None = None,
    since: date | None = None,
    until: date | None = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> list[MarketCell] | Response:
    with transaction(request) as s:
        cells = market.market(s, province=province, sector=sector, since=since, until=until)
    if format == "csv":
        return Response(
            market.market_csv(cells),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="skills-market.csv"'},
        )
    return cells
