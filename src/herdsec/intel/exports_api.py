"""HTTP adapter of the detection exports, under ``/api/v1/intel/exports``: what an SME's firewall, DNS server or
sensor fetches with its API key. Responses stream, carry an ``ETag`` and answer ``If-None-Match`` with 304."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from herdsec.identity import Principal
from herdsec.intel.exports import FORMATS
from herdsec.intel.exports import service as exports
from herdsec.web.deps import api_principal, database, transaction

router = APIRouter(prefix="/intel/exports", tags=["intel"])
Caller = Annotated[Principal, Depends(api_principal)]


class FormatOut(BaseModel):
    name: str
    description: str
    media_type: str
    parts: list[str]


@router.get("", response_model=list[FormatOut], summary="Export formats")
def list_formats(caller: Caller) -> list[FormatOut]:
    return [
        FormatOut(name=f.name, description=f.description, media_type=f.media_type, parts=[p.name for p in f.parts])
        for f in FORMATS.values()
    ]


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


@router.get(
    "/{format}",
    summary="Export what the caller may see: rules, blocklists, a zone, a STIX bundle",
    responses={200: {"content": {"text/plain": {}}}, 304: {"description": "Not modified since the given ETag"}},
)
async def export(
    request: Request,
    caller: Caller,
    format: str,
    type: Annotated[list[str] | None, Query(description="Value types (repeat or comma-separate).")] = None,
    since: Annotated[str | None, Query(description="ISO 8601 or an age such as 24h or 7d.")] = None,
    part: Annotated[str | None, Query(description="One file of a multi-file format (suricata-dataset).")] = None,
    include_warninglisted: bool = False,
    include_expired: bool = False,
    include_false_positive: bool = False,
    include_malformed: bool = False,
    sid_base: Annotated[int, Query(ge=1, le=2**32 - 1)] = 1_000_000,
    zone: Annotated[str, Query(max_length=200)] = "rpz.herdsec",
) -> Response:
    """Warninglisted, malformed, expired and false-positive values are left out unless asked for. The ``ETag``
    changes when anything the export reads changes (and at the top of each hour, as indicators decay)."""
    wanted = exports.ExportRequest(
        format=format,
        part=part,
        types=tuple(type or ()),
        since=exports.parse_since(since),
        include_warninglisted=include_warninglisted,
        include_expired=include_expired,
        include_false_positive=include_false_positive,
        include_malformed=include_malformed,
        sid_base=sid_base,
        zone=zone,
    )

    def prepare() -> exports.PreparedExport:
        with transaction(request) as session:
            return exports.prepare(session, caller, wanted)

    prepared = await run_in_threadpool(prepare)
    headers = {"ETag": prepared.etag, "Cache-Control": "private, no-cache"}
    if _matches(request.headers.get("if-none-match"), prepared.etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
    db = database(request)

    def body() -> Iterator[bytes]:
        with db.transaction() as session:
            for piece in exports.chunks(session, caller, prepared):
                yield piece.encode("utf-8")

    return StreamingResponse(body(), media_type=prepared.media_type, headers=headers)
