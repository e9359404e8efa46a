"""HTML pages of the intel module: dashboard, lookup, object detail, sharing (bundle, freetext, one value)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO, Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from herdsec import identity
from herdsec.core.errors import HerdsecError
from herdsec.core.i18n import gettext
from herdsec.identity import Principal, Role
from herdsec.intel import attack, browse, service
from herdsec.intel.schemas import IngestStatus, LookupResult, SightingIn
from herdsec.intel.search import Filters, search
from herdsec.ioc.freetext import extract
from herdsec.ioc.normalise import detect, normalise
from herdsec.ioc.refang import refang
from herdsec.ioc.types import IocType, Value
from herdsec.ioc.warninglists import shipped
from herdsec.web.deps import page_principal, transaction
from herdsec.web.render import render
from herdsec.web.security import check_csrf

router = APIRouter(prefix="/intel", include_in_schema=False)
Member = Annotated[Principal, Depends(page_principal)]
MAX_FREETEXT = 1_000_000


@dataclass
class Candidate:
    type: IocType
    value: str
    line: int
    problem: str | None
    warninglists: list[str] = field(default_factory=list)


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, me: Member) -> Response:
    with transaction(request) as s:
        board = browse.dashboard(s, me)
    return render(request, "intel/dashboard.html", board=board)


@router.get("/lookup", response_class=HTMLResponse)
def lookup(request: Request, me: Member, value: str = "") -> Response:
    result: LookupResult | None = None
    error = None
    if value:
        try:
            with transaction(request) as s:
                result = service.lookup(s, me, value, limit=request.app.state.settings.correlation_limit)
        except HerdsecError as exc:
            error = exc.render(gettext)
    return render(request, "intel/lookup.html", status=422 if error else 200, query=value, result=result, error=error)


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    me: Member,
    type: str = "",
    label: str = "",
    technique: str = "",
    tlp: str = "",
    next: str | None = None,
) -> Response:
    filters = Filters(type=type or None, label=label or None, technique=technique or None, tlp=tlp or None)
    error = None
    page = None
    try:
        with transaction(request) as s:
            page = search(s, me, filters, limit=50, cursor=next)
            names = attack.technique_names(s, [technique.upper()]) if technique else {}
    except HerdsecError as exc:
        error, names = exc.render(gettext), {}
    return render(
        request,
        "intel/search.html",
        status=422 if error else 200,
        page=page,
        error=error,
        form={"type": type, "label": label, "technique": technique, "tlp": tlp},
        technique_name=names.get(technique.upper(), ""),
    )


@router.get("/objects/{stix_id}", response_class=HTMLResponse)
def detail(request: Request, me: Member, stix_id: str, notice: str | None = None) -> Response:
    with transaction(request) as s:
        d = browse.object_detail(s, me, stix_id, limit=request.app.state.settings.correlation_limit)
        history = None
        if d.card.type == "indicator":
            value_type = d.values[0].type if d.values else None
            history = browse.score_history(s, me, stix_id, value_type, d.data, d.card.date_added)
    return render(
        request,
        "intel/object.html",
        d=d,
        history=history,
        score=history.score if history else None,
        expired=history.expired if history else False,
        notice=notice,
        may_report=me.has_role(Role.ANALYST),
    )


@router.post("/objects/{stix_id}/sightings")
def report_sighting(
    request: Request, me: Member, stix_id: str, kind: Annotated[str, Form()], count: Annotated[int, Form()] = 1
) -> Response:
    with transaction(request) as s:
        service.record_sighting(s, me, SightingIn(object_id=stix_id, kind=kind, count=count))
    return RedirectResponse(f"/intel/objects/{stix_id}?notice=saved", status_code=303)


def _submit_page(request: Request, me: Principal, status_code: int = 200, **context: object) -> Response:
    with transaction(request) as s:
        groups = identity.list_groups(s, me)
    context.setdefault("outcome", None)
    context.setdefault("found", None)
    context.setdefault("error", None)
    return render(request, "intel/submit.html", status=status_code, groups=groups, **context)


@router.get("/submit", response_class=HTMLResponse)
def submit(request: Request, me: Member) -> Response:
    return _submit_page(request, me)


@router.post("/submit/freetext", response_class=HTMLResponse)
def freetext(request: Request, me: Member, text: Annotated[str, Form(max_length=MAX_FREETEXT)]) -> Response:
    """Find the indicators in pasted text and show them for review (nothing is stored yet)."""
    lists = shipped()
    found = []
    for item in extract(text):
        hits = sorted({h.list_name for h in lists.match(item.ioc)})
        found.append(Candidate(item.ioc.type, item.ioc.value, item.line, item.ioc.problem, hits))
    return _submit_page(request, me, found=found)


@router.post("/submit/values", response_class=HTMLResponse)
async def share_values(request: Request, me: Member) -> Response:
    """Share reviewed values (checkboxes ``type|value``) or one typed value (``single``) as indicators."""
    await check_csrf(request)
    form = await request.form()
    values: list[Value] = []
    for item in form.getlist("value"):
        kind, _sep, text = str(item).partition("|")
        try:
            values.append(normalise(IocType(kind), text))
        except ValueError:
            continue
    single = str(form.get("single") or "").strip()
    if single:
        guessed = detect(refang(single))
        if guessed is None:
            return _submit_page(
                request, me, 422, error=gettext("Not a value the hub indexes: %(value)s") % {"value": single[:80]}
            )
        values.append(guessed)
    tlp, distribution = str(form.get("tlp") or "amber"), str(form.get("distribution") or "community")

    def work() -> IngestStatus:
        with transaction(request) as s:
            return service.share_values(s, me, values, tlp=tlp, distribution=distribution, source="web")

    try:
        status = await run_in_threadpool(work)
    except HerdsecError as exc:
        return _submit_page(request, me, 422, error=exc.render(gettext))
    return _submit_page(request, me, outcome=status)


@router.post("/submit/bundle", response_class=HTMLResponse)
async def upload_bundle(request: Request, me: Member) -> Response:
    await check_csrf(request)
    form = await request.form(max_part_size=request.app.state.settings.max_upload_bytes)
    upload = form.get("bundle")
    if not isinstance(upload, UploadFile):
        return _submit_page(request, me, 422, error=gettext("Choose a bundle file to upload."))
    tlp, distribution = str(form.get("tlp") or "amber"), str(form.get("distribution") or "community")
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed below
    try:
        while chunk := await upload.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)

        def work() -> IngestStatus:
            with transaction(request) as s:
                return service.ingest_bundle(
                    s, me, spool, tlp=tlp, distribution=distribution, source=f"web:{upload.filename}"[:60]
                )

        status = await run_in_threadpool(work)
    except HerdsecError as exc:
        return _submit_page(request, me, 422, error=exc.render(gettext))
    finally:
        spool.close()
    return _submit_page(request, me, outcome=status)
