"""JSON API of the intel module, under ``/api/v1/intel``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from herdsec.core.pagination import Page
from herdsec.identity import Principal
from herdsec.intel import service
from herdsec.intel.schemas import IngestStatus, LookupResult, SightingIn, SightingRecorded
from herdsec.intel.search import Filters, ObjectSummary, search
from herdsec.web.deps import api_principal, spooled_body, transaction

router = APIRouter(prefix="/intel", tags=["intel"])
Caller = Annotated[Principal, Depends(api_principal)]


@router.post("/bundles", response_model=IngestStatus, summary="Share a STIX 2.1 bundle")
async def post_bundle(
    request: Request,
    caller: Caller,
    tlp: Annotated[str | None, Query(description="TLP for objects that carry no marking (default amber).")] = None,
    distribution: Annotated[
        str | None,
        Query(description="organization, community (default), connected, all or sharing-group:<id>."),
    ] = None,
) -> IngestStatus:
    """Valid objects are stored, invalid ones reported with their index, id and reason; the body is streamed to a
    temporary file and parsed incrementally, so its size is bounded by HERDSEC_MAX_UPLOAD_BYTES, not memory."""
    async with spooled_body(request) as spool:

        def work() -> IngestStatus:
            with transaction(request) as session:
                return service.ingest_bundle(session, caller, spool, tlp=tlp, distribution=distribution)

        return await run_in_threadpool(work)


@router.get("/lookup", response_model=LookupResult, summary="Every visible object that carries a value")
def lookup(
    request: Request,
    caller: Caller,
    value: Annotated[str, Query(min_length=1, max_length=4096, description="IP, domain, URL, hash, …")],
    type: Annotated[str | None, Query(description="Value type, when it cannot be guessed.")] = None,
) -> LookupResult:
    limit = request.app.state.settings.correlation_limit
    with transaction(request) as session:
        return service.lookup(session, caller, value, type_hint=type, limit=limit)


@router.post("/sightings", response_model=SightingRecorded, status_code=201, summary="Report a sighting")
def post_sighting(request: Request, caller: Caller, body: SightingIn) -> SightingRecorded:
    """By value (every visible indicator carrying it) or by object id; kind sighting, false-positive or
    expiration. Counts and first/last seen only: never log lines."""
    with transaction(request) as session:
        return service.record_sighting(session, caller, body)


@router.get("/objects", response_model=Page[ObjectSummary], summary="Search visible objects")
def search_objects(
    request: Request,
    caller: Caller,
    type: str | None = None,
    label: str | None = None,
    technique: Annotated[str | None, Query(description="ATT&CK id, e.g. T1566 or T1566.001.")] = None,
    org: Annotated[int | None, Query(description="Sharing organization id.")] = None,
    since: Annotated[datetime | None, Query(description="Added at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Added before (ISO 8601).")] = None,
    tlp: str | None = None,
    min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    next: str | None = None,
) -> Page[ObjectSummary]:
    """Newest first; follow ``next`` for older objects."""
    filters = Filters(
        type=type, label=label, technique=technique, org_id=org, since=since, until=until, tlp=tlp, min_score=min_score
    )
    with transaction(request) as session:
        return search(session, caller, filters, limit=limit, cursor=next)


@router.get("/objects/{stix_id}", summary="The current version of a visible object, as STIX JSON")
def get_object(request: Request, caller: Caller, stix_id: str) -> Response:
    with transaction(request) as session:
        data = service.get_object(session, caller, stix_id)
    return Response(data, media_type="application/stix+json;version=2.1")
