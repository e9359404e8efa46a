"""HTML pages of the identity module: login, account, organizations, users, API keys, sharing groups, audit."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.errors import HerdsecError
from herdsec.core.i18n import LANGUAGES, gettext, set_language
from herdsec.identity.logic import OrgKind, Role, SizeBand
from herdsec.identity.principal import Principal
from herdsec.identity.schemas import OrganizationIn, SharingGroupIn, UserIn, UserPatch
from herdsec.web.deps import client_ip, optional_page_principal, page_principal, transaction
from herdsec.web.render import render
from herdsec.web.security import LANG_COOKIE, SESSION_COOKIE, check_csrf

router = APIRouter(include_in_schema=False)
Member = Annotated[Principal, Depends(page_principal)]
Visitor = Annotated[Principal | None, Depends(optional_page_principal)]
Text = Annotated[str, Form()]


def _local(target: str | None, default: str = "/") -> str:
    """Only follow redirects to paths on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return default
    return target


def _org_in(form: dict[str, str]) -> OrganizationIn:
    return OrganizationIn(
        name=form["name"],
        kind=form["kind"],
        sector=form.get("sector") or None,
        province=form.get("province") or None,
        size_band=form.get("size_band") or None,
        description=form.get("description") or None,
    )


def _back(url: str, notice: str | None = None) -> RedirectResponse:
    return RedirectResponse(url + (f"?notice={notice}" if notice else ""), status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, visitor: Visitor) -> Response:
    return render(request, "home.html", principal=visitor)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "identity/login.html", next=_local(next), error=None)


@router.post("/login")
async def login(request: Request, email: Text, password: Text, next: Text = "/") -> Response:
    await check_csrf(request)
    settings = request.app.state.settings
    try:
        with transaction(request) as s:
            token = identity.login(s, email, password, client_ip(request), settings.session_hours)
    except HerdsecError as exc:
        return render(request, "identity/login.html", status=401, next=_local(next), error=exc.render(gettext))
    response = RedirectResponse(_local(next, "/account"), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


@router.post("/logout")
async def logout(request: Request, me: Member) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    with transaction(request) as s:
        identity.logout(s, me, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
async def choose_language(request: Request, visitor: Visitor, lang: Text, next: Text = "/") -> Response:
    await check_csrf(request)
    language = lang if lang in LANGUAGES else request.app.state.settings.default_language
    if visitor is not None and visitor.user_id is not None:
        with transaction(request) as s:
            identity.update_user(s, visitor, visitor.user_id, UserPatch(language=language))
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, me: Member, notice: str | None = None) -> Response:
    with transaction(request) as s:
        user = identity.get_user(s, me.user_id) if me.user_id else None
        org = identity.get_org(s, me.org_id)
    return render(request, "identity/account.html", user=user, org=org, notice=notice, error=None)


@router.post("/account")
def update_account(
    request: Request,
    me: Member,
    name: Text,
    language: Text = "",
    current_password: Text = "",
    new_password: Text = "",
) -> Response:
    assert me.user_id is not None
    try:
        with transaction(request) as s:
            identity.update_user(s, me, me.user_id, UserPatch(name=name, language=language or None))
            if new_password:
                identity.set_password(s, me, me.user_id, new_password, current_password)
    except HerdsecError as exc:
        with transaction(request) as s:
            user, org = identity.get_user(s, me.user_id), identity.get_org(s, me.org_id)
        return render(
            request, "identity/account.html", status=422, user=user, org=org, notice=None, error=exc.render(gettext)
        )
    if language in LANGUAGES:
        set_language(language)
    response = _back("/account", "saved")
    if language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


# --- organizations ----------------------------------------------------------------------------------------------


@router.get("/orgs", response_class=HTMLResponse)
def orgs(request: Request, me: Member, kind: str | None = None, error: str | None = None) -> Response:
    with transaction(request) as s:
        rows = identity.list_orgs(s, kind=kind or None)
    return render(
        request,
        "identity/orgs.html",
        orgs=rows,
        kinds=list(OrgKind),
        sizes=list(SizeBand),
        kind=kind,
        error=error,
        form={},
    )


@router.post("/orgs")
def create_org(
    request: Request,
    me: Member,
    name: Text,
    kind: Text,
    sector: Text = "",
    province: Text = "",
    size_band: Text = "",
) -> Response:
    form = {"name": name, "kind": kind, "sector": sector, "province": province, "size_band": size_band}
    try:
        with transaction(request) as s:
            org = identity.create_org(s, me, _org_in(form))
    except HerdsecError as exc:
        with transaction(request) as s:
            rows = identity.list_orgs(s)
        return render(
            request,
            "identity/orgs.html",
            status=422,
            orgs=rows,
            kinds=list(OrgKind),
            sizes=list(SizeBand),
            kind=None,
            error=exc.render(gettext),
            form=form,
        )
    return _back(f"/orgs/{org.id}", "created")


@router.get("/orgs/{org_id}", response_class=HTMLResponse)
def org_detail(request: Request, me: Member, org_id: int, notice: str | None = None) -> Response:
    return _org_page(request, me, org_id, notice=notice)


def _org_page(request: Request, me: Member, org_id: int, status: int = 200, **extra: object) -> Response:
    with transaction(request) as s:
        org = identity.get_org(s, org_id)
        own = me.org_id == org_id or me.is_coordinator
        users = identity.list_users(s, me, org_id) if own else []
    may_manage = me.is_coordinator or (me.org_id == org_id and me.has_role(Role.ADMIN))
    extra.setdefault("notice", None)
    extra.setdefault("error", None)
    return render(
        request,
        "identity/org.html",
        status=status,
        org=org,
        users=users,
        may_manage=may_manage,
        roles=list(Role),
        kinds=list(OrgKind),
        sizes=list(SizeBand),
        **extra,
    )


@router.post("/orgs/{org_id}")
def update_org(
    request: Request,
    me: Member,
    org_id: int,
    name: Text,
    kind: Text,
    sector: Text = "",
    province: Text = "",
    size_band: Text = "",
    description: Text = "",
) -> Response:
    data = {
        "name": name,
        "kind": kind,
        "sector": sector,
        "province": province,
        "size_band": size_band,
        "description": description,
    }
    try:
        with transaction(request) as s:
            identity.update_org(s, me, org_id, _org_in(data))
    except HerdsecError as exc:
        return _org_page(request, me, org_id, status=422, error=exc.render(gettext))
    return _back(f"/orgs/{org_id}", "saved")


@router.post("/orgs/{org_id}/users")
def add_user(
    request: Request,
    me: Member,
    org_id: int,
    email: Text,
    name: Text,
    role: Text,
    password: Text = "",
) -> Response:
    try:
        with transaction(request) as s:
            identity.create_user(s, me, org_id, UserIn(email=email, name=name, role=role, password=password or None))
    except HerdsecError as exc:
        return _org_page(request, me, org_id, status=422, error=exc.render(gettext))
    return _back(f"/orgs/{org_id}", "user-added")


@router.post("/users/{user_id}")
def change_user(
    request: Request,
    me: Member,
    user_id: int,
    role: Text = "",
    active: Text = "",
) -> Response:
    patch = UserPatch(role=role or None, active=None if active == "" else active == "1")
    with transaction(request) as s:
        target = identity.get_user(s, user_id)
    try:
        with transaction(request) as s:
            identity.update_user(s, me, user_id, patch)
    except HerdsecError as exc:
        return _org_page(request, me, target.organization_id, status=422, error=exc.render(gettext))
    return _back(f"/orgs/{target.organization_id}", "saved")


# --- API keys ---------------------------------------------------------------------------------------------------


@router.get("/keys", response_class=HTMLResponse)
def keys(request: Request, me: Member) -> Response:
    return _keys_page(request, me)


def _keys_page(request: Request, me: Member, status: int = 200, **extra: object) -> Response:
    with transaction(request) as s:
        rows = identity.list_api_keys(s, me)
    grantable = [r for r in Role if me.is_coordinator or me.has_role(r)]
    extra.setdefault("created", None)
    extra.setdefault("error", None)
    return render(request, "identity/keys.html", status=status, keys=rows, roles=grantable, now=utcnow(), **extra)


@router.post("/keys")
def create_key(request: Request, me: Member, role: Text, label: Text = "") -> Response:
    try:
        with transaction(request) as s:
            created = identity.create_api_key(s, me, role=role, label=label, user_id=me.user_id)
    except HerdsecError as exc:
        return _keys_page(request, me, status=422, error=exc.render(gettext))
    response = _keys_page(request, me, status=201, created=created)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/keys/{key_id}/revoke")
def revoke_key(request: Request, me: Member, key_id: int) -> Response:
    with transaction(request) as s:
        identity.revoke_api_key(s, me, key_id)
    return _back("/keys")


# --- sharing groups ---------------------------------------------------------------------------------------------


@router.get("/groups", response_class=HTMLResponse)
def groups(request: Request, me: Member) -> Response:
    return _groups_page(request, me)


def _groups_page(request: Request, me: Member, status: int = 200, error: str | None = None) -> Response:
    with transaction(request) as s:
        rows = identity.list_groups(s, me)
        orgs = identity.list_orgs(s)
    return render(
        request,
        "identity/groups.html",
        status=status,
        groups=rows,
        orgs=orgs,
        error=error,
        may_create=me.has_role(Role.ADMIN),
    )


@router.post("/groups")
async def create_group(request: Request, me: Member) -> Response:
    form = await request.form()
    members = [int(v) for v in form.getlist("members") if isinstance(v, str) and v.isdigit()]
    try:
        with transaction(request) as s:
            group = identity.create_group(
                s,
                me,
                SharingGroupIn(
                    name=str(form.get("name", "")) or " ",
                    description=str(form.get("description", "")) or None,
                    member_org_ids=members,
                ),
            )
    except HerdsecError as exc:
        return _groups_page(request, me, status=422, error=exc.render(gettext))
    return _back(f"/groups/{group.id}", "created")


@router.get("/groups/{group_id}", response_class=HTMLResponse)
def group_detail(
    request: Request, me: Member, group_id: int, notice: str | None = None, error: str | None = None
) -> Response:
    return _group_page(request, me, group_id, notice=notice)


def _group_page(request: Request, me: Member, group_id: int, status: int = 200, **extra: object) -> Response:
    with transaction(request) as s:
        group = identity.get_group(s, me, group_id)
        orgs = identity.list_orgs(s)
    member_ids = {m.id for m in group.members}
    may_manage = me.is_coordinator or (group.owner.id == me.org_id and me.has_role(Role.ADMIN))
    extra.setdefault("notice", None)
    extra.setdefault("error", None)
    return render(
        request,
        "identity/group.html",
        status=status,
        group=group,
        may_manage=may_manage,
        candidates=[o for o in orgs if o.id not in member_ids],
        **extra,
    )


@router.post("/groups/{group_id}/members")
def add_group_member(request: Request, me: Member, group_id: int, organization_id: Annotated[int, Form()]) -> Response:
    try:
        with transaction(request) as s:
            identity.add_member(s, me, group_id, organization_id)
    except HerdsecError as exc:
        return _group_page(request, me, group_id, status=422, error=exc.render(gettext))
    return _back(f"/groups/{group_id}", "saved")


@router.post("/groups/{group_id}/members/{org_id}/remove")
def remove_group_member(request: Request, me: Member, group_id: int, org_id: int) -> Response:
    try:
        with transaction(request) as s:
            identity.remove_member(s, me, group_id, org_id)
    except HerdsecError as exc:
        return _group_page(request, me, group_id, status=422, error=exc.render(gettext))
    return _back(f"/groups/{group_id}", "saved")


# --- audit ------------------------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, me: Member, action: str | None = None, next: str | None = None) -> Response:
    with transaction(request) as s:
        page = identity.list_audit(s, me, action=action or None, limit=50, cursor=next)
    return render(request, "identity/audit.html", page=page, action=action or "")
