"""The ``/webhooks`` page: an organization's admins add and manage targets, see dead letters and redeliver them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from herdsec.core.errors import HerdsecError
from herdsec.core.i18n import gettext
from herdsec.core.outbound import OutboundPolicy
from herdsec.identity import Principal
from herdsec.intel.webhooks import service
from herdsec.intel.webhooks.schemas import WebhookCreated, WebhookIn
from herdsec.web.deps import page_principal, transaction
from herdsec.web.render import render

router = APIRouter(prefix="/webhooks", include_in_schema=False)
Member = Annotated[Principal, Depends(page_principal)]
Text = Annotated[str, Form()]


def _page(
    request: Request,
    me: Principal,
    status: int = 200,
    created: WebhookCreated | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    with transaction(request) as s:
        hooks = service.list_webhooks(s, me)
        dead = service.deliveries(s, me, status="dead")
        recent = service.deliveries(s, me, status=None, limit=20)
    response = render(
        request,
        "intel/webhooks.html",
        status=status,
        hooks=hooks,
        dead=dead,
        recent=recent,
        created=created,
        error=error,
        form=form or {},
        notice=request.query_params.get("notice"),
    )
    if created:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("", response_class=HTMLResponse)
def webhooks(request: Request, me: Member) -> Response:
    return _page(request, me)


@router.post("")
def add_webhook(
    request: Request, me: Member, url: Text, types: Text = "", tlp: Text = "", sector: Text = "", min_score: Text = ""
) -> Response:
    form = {"url": url, "types": types, "tlp": tlp, "sector": sector, "min_score": min_score}
    policy = OutboundPolicy.from_settings(request.app.state.settings)
    try:
        score = float(min_score) if min_score.strip() else None
        data = WebhookIn(url=url.strip(), types=types or None, tlp=tlp or None, sector=sector or None, min_score=score)
        with transaction(request) as s:
            created = service.create(s, me, data, policy=policy)
    except HerdsecError as exc:
        return _page(request, me, status=422, error=exc.render(gettext), form=form)
    except ValueError as exc:  # pydantic's ValidationError and float() errors
        return _page(request, me, status=422, error=str(exc).splitlines()[0], form=form)
    return _page(request, me, status=201, created=created)


@router.post("/{webhook_id}/enable")
def enable(request: Request, me: Member, webhook_id: int, enabled: Text = "1") -> Response:
    with transaction(request) as s:
        service.set_enabled(s, me, webhook_id, enabled == "1")
    return RedirectResponse("/webhooks?notice=saved", status_code=303)


@router.post("/{webhook_id}/delete")
def remove(request: Request, me: Member, webhook_id: int) -> Response:
    with transaction(request) as s:
        service.delete(s, me, webhook_id)
    return RedirectResponse("/webhooks?notice=saved", status_code=303)


@router.post("/deliveries/{delivery_id}/redeliver")
def redeliver(request: Request, me: Member, delivery_id: int) -> Response:
    with transaction(request) as s:
        service.redeliver(s, me, delivery_id)
    worker = getattr(request.app.state, "webhook_worker", None)
    if worker is not None:
        worker.wake()
    return RedirectResponse("/webhooks?notice=saved", status_code=303)
