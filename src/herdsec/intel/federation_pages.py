"""HTML page of federation (coordinators): peers, their status and last error, recent runs, "run now"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from herdsec.core.errors import N_
from herdsec.core.i18n import gettext
from herdsec.identity.principal import Principal
from herdsec.intel import federation
from herdsec.intel.federation.service import check_operator
from herdsec.web.deps import database, page_principal, transaction
from herdsec.web.render import render
from herdsec.web.security import check_csrf

router = APIRouter(include_in_schema=False)
Member = Annotated[Principal, Depends(page_principal)]
RUN_OK = N_("The run finished.")
RUN_FAILED = N_("The run failed: %(error)s")


def _page(request: Request, me: Member, status: int = 200, **extra: object) -> Response:
    check_operator(me)
    with transaction(request) as s:
        peers = federation.list_peers(s, me)
        runs = federation.recent_runs(s, me, limit=30)
    return render(
        request, "intel/federation.html", status=status, principal=me, peers=peers, runs=runs,
        duration=federation.format_duration, **extra,
    )  # fmt: skip


@router.get("/federation", response_class=HTMLResponse)
def federation_page(request: Request, me: Member) -> Response:
    return _page(request, me)


@router.post("/federation/{name}/run")
async def run_now(request: Request, me: Member, name: str) -> Response:
    await check_csrf(request)
    check_operator(me)
    result = federation.run_peer(database(request), me, name, request.app.state.settings, trigger="page")
    if result.error:
        return _page(request, me, status=200, error=gettext(RUN_FAILED) % {"error": result.error})
    return RedirectResponse("/federation?ran=1", status_code=303)
