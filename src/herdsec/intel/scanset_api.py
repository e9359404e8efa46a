"""``GET /api/v1/intel/scanset``: the caller's scan set as NDJSON (see :mod:`herdsec.intel.scanset`)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from herdsec.identity import Principal
from herdsec.intel import scanset
from herdsec.web.deps import api_principal, transaction

router = APIRouter(prefix="/intel", tags=["intel"])
Caller = Annotated[Principal, Depends(api_principal)]


@router.get(
    "/scanset",
    summary="Indicator values for the log scanner, in full or changed since a cursor (NDJSON)",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def get_scanset(
    request: Request,
    caller: Caller,
    after: Annotated[str | None, Query(max_length=80, description="The cursor of the previous answer.")] = None,
) -> Response:
    """First line ``{"full": bool}`` (true: replace your cache), then ``{"op": "add"|"remove", "type", "value",
    "id"}`` lines, then ``{"cursor": "…", "full": bool}``. Current, visible, unrevoked, well-formed, not
    warninglisted, unexpired indicators that no one reported as a false positive."""
    with transaction(request) as session:
        body = b"".join(orjson.dumps(line) + b"\n" for line in scanset.changes(session, caller, after))
    return Response(body, media_type="application/x-ndjson")
