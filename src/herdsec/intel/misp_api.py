"""JSON API of the MISP adapter, under ``/api/v1/intel/misp``: import MISP event JSON, export one event."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from herdsec.identity import Principal
from herdsec.intel import misp
from herdsec.web.deps import api_principal, spooled_body, transaction

router = APIRouter(prefix="/intel/misp", tags=["intel"])
Caller = Annotated[Principal, Depends(api_principal)]


@router.post("/events", response_model=misp.MispImportStatus, summary="Import MISP event JSON")
async def post_events(
    request: Request,
    caller: Caller,
    tlp: Annotated[str | None, Query(description="TLP for events without a tlp:* tag (default amber).")] = None,
    distribution: Annotated[
        str | None,
        Query(
            description="Caps the events' own MISP distribution: organization, community, connected, all or "
            "sharing-group:<id>."
        ),
    ] = None,
) -> misp.MispImportStatus:
    """``{"Event": {...}}``, a bare event, a list of events or ``{"response": [...]}``. Each event becomes a STIX
    report with its indicators, observables, objects, relationships and sightings; what cannot be stored is
    reported per element (``where``: ``Attribute[3]``, ``Object[1].Attribute[0]``…) with its uuid and the reason.
    The body is spooled to a temporary file and large events are streamed."""
    async with spooled_body(request) as spool:

        def work() -> misp.MispImportStatus:
            with transaction(request) as session:
                return misp.import_events(session, caller, spool, tlp=tlp, distribution=distribution, source="api")

        return await run_in_threadpool(work)


@router.get("/events/{event_uuid}", summary="One visible event as MISP JSON")
def get_event(request: Request, caller: Caller, event_uuid: str) -> dict[str, Any]:
    """``{"Event": {...}}`` as PyMISP's ``MISPEvent().load()`` reads it, with only the attributes and objects the
    caller may see. ``event_uuid`` is the MISP event's uuid (or a STIX report's uuid)."""
    with transaction(request) as session:
        return misp.export_event(session, caller, event_uuid[:80])
