"""HTML pages of the skills module: the catalogue (by category, role detail, search), job postings, programmes,
personal path, market and team coverage. Every page is in Vietnamese and English."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from herdsec.core.errors import N_, Conflict, HerdsecError, InvalidInput, NotFound, PermissionDenied
from herdsec.core.i18n import gettext
from herdsec.core.text import ascii_digits
from herdsec.identity import Principal
from herdsec.skills import market, programmes, service
from herdsec.skills import postings as posting_files
from herdsec.skills.catalogue import package_data
from herdsec.skills.legacy import STATEMENT_ID
from herdsec.skills.schemas import (
    CustomRoleEdit,
    CustomRoleIn,
    PostingIn,
    ProfileIn,
    ProgrammeIn,
    ProgrammeOut,
    RoleDetail,
    TeamIn,
)
from herdsec.web.deps import optional_page_principal, page_principal, transaction
from herdsec.web.render import render
from herdsec.web.security import check_csrf

router = APIRouter(prefix="/skills", include_in_schema=False)
Member = Annotated[Principal, Depends(page_principal)]
# The catalogue and the personal path are public: a student needs no member account to find a path to a role.
Visitor = Annotated[Principal | None, Depends(optional_page_principal)]
RELATIONS = {
    "equivalent": N_("equivalent"),
    "broader": N_("broader"),
    "narrower": N_("narrower"),
    "related": N_("related"),
}
ADVICE = {"covered": N_("covered"), "train": N_("train"), "hire": N_("hire")}
ROLE_FIELDS = ("name_en", "name_vi", "text_en", "text_vi", "category", "statements", "aliases")
KIND_NAMES = {"task": N_("Tasks"), "knowledge": N_("Knowledge"), "skill": N_("Skills")}
LEGACY_KINDS = {"task": N_("task"), "knowledge": N_("knowledge"), "skill": N_("skill"), "ability": N_("ability")}
METHODS = {
    "same-id": N_("same id kept in v2.1.0"),
    "same-text": N_("same text"),
    "similar-text": N_("similar text"),
    "none": N_("no successor"),
}


def readable(phrases: list[str]) -> list[str]:
    """The matched posting phrases a person can read: the matcher's accent-folded Vietnamese terms (``vi:su co``)
    are left out when real phrases exist, and lose their prefix otherwise."""
    plain = [p for p in phrases if not p.startswith("vi:")]
    return plain or [p.removeprefix("vi:") for p in phrases]


def _error(exc: HerdsecError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return exc.render(gettext)


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("error", None)
    return render(
        request,
        template,
        status=status,
        relations=RELATIONS,
        kind_names=KIND_NAMES,
        advice=ADVICE,
        legacy_kinds=LEGACY_KINDS,
        methods=METHODS,
        readable=readable,
        **context,
    )


@router.get("", response_class=HTMLResponse)
def index(request: Request, me: Visitor, notice: str | None = None, deleted: str = "") -> Response:
    with transaction(request) as s:
        loaded = service.is_loaded(s)
        groups = service.list_groups(s) if loaded else []
        roles = service.list_roles(s) if loaded else []
    return _page(
        request, "skills/index.html", loaded=loaded, groups=groups, roles=roles, notice=notice, deleted=deleted
    )


@router.post("/roles")
async def create_role(request: Request, me: Member) -> Response:
    await check_csrf(request)
    form = await request.form()
    try:
        data = CustomRoleIn(
            code=str(form.get("code") or "").strip().upper(),
            name_en=str(form.get("name_en") or ""),
            name_vi=str(form.get("name_vi") or ""),
            text_en=str(form.get("text_en") or ""),
            text_vi=str(form.get("text_vi") or ""),
            category=str(form.get("category") or "") or None,
            statements=str(form.get("statements") or "").replace(",", " ").split(),
            aliases=[a.strip() for a in str(form.get("aliases") or "").split(";") if a.strip()],
        )
        with transaction(request) as s:
            role = service.create_custom_role(s, me, data)
    except (HerdsecError, ValidationError) as exc:
        with transaction(request) as s:
            groups, roles = service.list_groups(s), service.list_roles(s)
        return _page(request, "skills/index.html", 422, loaded=True, groups=groups, roles=roles, error=_error(exc))
    return RedirectResponse(f"/skills/roles/{role.code}?notice=created", status_code=303)


def _role_form(form: Any) -> CustomRoleEdit:
    return CustomRoleEdit(
        name_en=str(form.get("name_en") or ""),
        name_vi=str(form.get("name_vi") or ""),
        text_en=str(form.get("text_en") or ""),
        text_vi=str(form.get("text_vi") or ""),
        category=str(form.get("category") or "") or None,
        statements=str(form.get("statements") or "").replace(",", " ").split(),
        aliases=[a.strip() for a in str(form.get("aliases") or "").split(";") if a.strip()],
    )


def _aliases(detail: RoleDetail) -> list[object]:
    found = detail.details.get("aliases")
    return list(found) if isinstance(found, list) else []


def _role_edit_page(request: Request, code: str, status: int = 200, **context: Any) -> Response:
    with transaction(request) as s:
        detail = service.role_detail(s, code)
        groups = service.list_groups(s, "category")
    if detail.framework != "custom":  # NICE and ECSF roles are reference data: there is no edit form for them
        raise NotFound(N_("no custom work role %(code)s"), code=detail.code)
    if "form" not in context:
        context["form"] = {
            "name_en": detail.name_en,
            "name_vi": detail.name_vi or "",
            "text_en": detail.text_en,
            "text_vi": detail.text_vi or "",
            "category": detail.category or "",
            "statements": " ".join(st.code for st in detail.tasks + detail.knowledge + detail.skills),
            "aliases": "; ".join(str(a) for a in _aliases(detail)),
        }
    return _page(request, "skills/role_edit.html", status, role=detail, groups=groups, **context)


@router.get("/roles/{code}/edit", response_class=HTMLResponse)
def role_edit(request: Request, me: Member, code: str) -> Response:
    if not me.is_coordinator:
        raise PermissionDenied(N_("only coordinators edit custom work roles"))
    return _role_edit_page(request, code)


@router.post("/roles/{code}/edit", response_class=HTMLResponse)
async def role_edit_post(request: Request, me: Member, code: str) -> Response:
    await check_csrf(request)
    form = await request.form()
    try:
        data = _role_form(form)
        with transaction(request) as s:
            role = service.update_custom_role(s, me, code, data)
    except (HerdsecError, ValidationError) as exc:
        if isinstance(exc, PermissionDenied | NotFound):
            raise
        values = {k: str(form.get(k) or "") for k in ROLE_FIELDS}
        return _role_edit_page(request, code, 422, form=values, error=_error(exc))
    return RedirectResponse(f"/skills/roles/{role.code}?notice=saved", status_code=303)


@router.post("/roles/{code}/delete", response_class=HTMLResponse)
async def role_delete(request: Request, me: Member, code: str) -> Response:
    await check_csrf(request)
    try:
        with transaction(request) as s:
            service.delete_custom_role(s, me, code)
    except Conflict as exc:
        return _role_edit_page(request, code, 409, error=exc.render(gettext))
    return RedirectResponse("/skills?deleted=role", status_code=303)


@router.get("/roles/{code}", response_class=HTMLResponse)
def role(request: Request, me: Visitor, code: str, notice: str | None = None) -> Response:
    if STATEMENT_ID.fullmatch(code.strip().upper()):  # a statement id typed where a role was expected
        return RedirectResponse(f"/skills/statements/{code.strip().upper()}", status_code=303)
    with transaction(request) as s:
        detail = service.role_detail(s, code)
        demand = market.role_demand(s, detail.code)
        taught = programmes.programmes_for_role(s, detail.code)
        # An ECSF profile has no NICE statements of its own: postings and programmes are counted on its NICE
        # counterparts in the crosswalk.
        counterparts = [
            (x, market.role_demand(s, x.code), programmes.programmes_for_role(s, x.code, limit=2))
            for x in (detail.crosswalk if detail.framework == "ecsf" else [])
        ]
        category = next((g for g in service.list_groups(s, "category") if g.code == detail.category), None)
    return _page(
        request,
        "skills/role.html",
        role=detail,
        notice=notice,
        demand=demand,
        taught=taught,
        counterparts=counterparts,
        category=category,
    )


@router.get("/crosswalk", response_class=HTMLResponse)
def crosswalk_page(request: Request, me: Visitor) -> Response:
    with transaction(request) as s:
        links = service.crosswalk(s)
        names = {r.code: r for r in service.list_roles(s)}
    return _page(request, "skills/crosswalk.html", links=links, names=names)


@router.get("/glossary", response_class=HTMLResponse)
def glossary_page(request: Request, me: Visitor, q: str = "") -> Response:
    return _page(request, "skills/glossary.html", terms=service.glossary_terms(q[:200]), q=q[:200])


@router.get("/statements/{code}", response_class=HTMLResponse)
def statement_page(request: Request, me: Visitor, code: str) -> Response:
    with transaction(request) as s:
        found = service.statement_lookup(s, code)
    return _page(request, "skills/statement.html", found=found)


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, me: Visitor, q: str = "", kind: str = "") -> Response:
    if STATEMENT_ID.fullmatch(q.strip().upper()):  # an id (v2.1.0 or 2017): straight to the statement
        return RedirectResponse(f"/skills/statements/{q.strip().upper()}", status_code=303)
    hits, error = [], None
    with transaction(request) as s:
        names = {r.code: r for r in service.list_roles(s)}
        if q.strip():
            try:
                hits = service.search_statements(s, q, kind or None, limit=50)
            except HerdsecError as exc:
                error = exc.render(gettext)
    return _page(
        request, "skills/search.html", 422 if error else 200, q=q, kind=kind, hits=hits, error=error, names=names
    )


def _postings_page(request: Request, me: Principal, status: int = 200, **context: Any) -> Response:
    with transaction(request) as s:
        stored = market.list_postings(s, me, limit=50)
        changeable = {p.id for p in stored if market.may_change_posting(me, p)}
    context.setdefault("results", None)
    context.setdefault("form", {"title": "", "text": ""})
    # not "mine": base.html sets that name (the link to the own organization) for every page
    return _page(request, "skills/postings.html", status, stored_postings=stored, changeable=changeable, **context)


@router.get("/postings", response_class=HTMLResponse)
def postings_page(request: Request, me: Member, deleted: str = "", notice: str | None = None) -> Response:
    return _postings_page(request, me, deleted=deleted, notice=notice)


POSTING_FIELDS = ("id", "title", "text", "employer", "province", "sector", "date")


def _posting_edit_page(request: Request, me: Principal, posting_id: int, status: int = 200, **context: Any) -> Response:
    with transaction(request) as s:
        row = market.get_posting(s, me, posting_id)
        if not market.may_change_posting(me, row):
            raise PermissionDenied(market.POSTING_EDIT_REFUSED)
        current = market.posting_in(row)
        best = row.best_role
    if "form" not in context:
        context["form"] = {
            k: ("" if v is None else str(v)) for k, v in current.model_dump().items() if k in POSTING_FIELDS
        }
    return _page(request, "skills/posting_edit.html", status, posting_id=posting_id, best=best, **context)


@router.get("/postings/{posting_id}/edit", response_class=HTMLResponse)
def posting_edit(request: Request, me: Member, posting_id: int) -> Response:
    return _posting_edit_page(request, me, posting_id)


@router.post("/postings/{posting_id}/edit", response_class=HTMLResponse)
async def posting_edit_post(request: Request, me: Member, posting_id: int) -> Response:
    await check_csrf(request)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in POSTING_FIELDS}
    try:
        try:
            posted = date.fromisoformat(values["date"]) if values["date"] else None
        except ValueError:
            raise InvalidInput(N_("dates are written YYYY-MM-DD"), where="date") from None
        item = PostingIn(
            id=values["id"],
            title=values["title"],
            text=str(form.get("text") or ""),
            employer=values["employer"] or None,
            province=values["province"] or None,
            sector=values["sector"] or None,
            date=posted,
        )
        with transaction(request) as s:
            market.update_posting(s, me, posting_id, item)
    except (HerdsecError, ValidationError) as exc:
        if isinstance(exc, PermissionDenied | NotFound):
            raise
        return _posting_edit_page(request, me, posting_id, 422, form=values, error=_error(exc))
    return RedirectResponse("/skills/postings?notice=saved", status_code=303)


@router.post("/postings/{posting_id}/delete", response_class=HTMLResponse)
async def posting_delete(request: Request, me: Member, posting_id: int) -> Response:
    await check_csrf(request)
    with transaction(request) as s:
        market.delete_posting(s, me, posting_id)
    return RedirectResponse("/skills/postings?deleted=posting", status_code=303)


@router.post("/postings", response_class=HTMLResponse)
async def postings_post(request: Request, me: Member) -> Response:
    """Match a pasted posting or an uploaded file (JSON lines, CSV, text); keep them when asked."""
    await check_csrf(request)
    form = await request.form(max_part_size=request.app.state.settings.max_upload_bytes)
    upload = form.get("file")
    title, text = str(form.get("title") or ""), str(form.get("text") or "")
    store = form.get("store") == "on"
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(posting_files.MAX_FILE_BYTES + 1)
            items = posting_files.read(data, upload.filename, str(form.get("format") or "auto"))
        else:
            if len(text) > posting_files.MAX_POSTING_CHARS:
                raise InvalidInput(
                    N_("the posting text is %(size)s characters, over the limit of %(max)s"),
                    where="text",
                    size=len(text),
                    max=posting_files.MAX_POSTING_CHARS,
                )
            if not title.strip() or not text.strip():
                raise InvalidInput(N_("give a title and a text, or choose a file"))
            items = [
                PostingIn(
                    id="web-" + hashlib.sha256((title + text).encode()).hexdigest()[:12],
                    title=title.strip()[:300],
                    text=text,
                    employer=str(form.get("employer") or "").strip() or None,
                    province=str(form.get("province") or "").strip() or None,
                    sector=str(form.get("sector") or "").strip() or None,
                    date=date.today(),
                )
            ]
        with transaction(request) as s:
            results = market.store_postings(s, me, items).matches if store else market.match_postings(s, items)
    except (HerdsecError, ValidationError) as exc:
        return _postings_page(request, me, 422, error=_error(exc), form={"title": title, "text": text})
    return _postings_page(request, me, results=list(zip(items, results, strict=True)), stored=store)


def _programme_courses(text: str) -> list[dict[str, Any]]:
    """``CODE | Course title | outcome; outcome`` per line (the page's simple format)."""
    courses = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not all(parts):
            raise InvalidInput(N_("write each course as: CODE | title | outcome; outcome"), where=f"line {number}")
        courses.append({"code": parts[0], "title": parts[1], "outcomes": [o for o in parts[2].split(";") if o.strip()]})
    return courses


@router.get("/programmes", response_class=HTMLResponse)
def programmes_page(request: Request, me: Member, deleted: str = "") -> Response:
    with transaction(request) as s:
        items = programmes.list_programmes(s)
    return _page(request, "skills/programmes.html", programmes=items, form={}, deleted=deleted)


def _courses_text(programme: ProgrammeOut) -> str:
    """A programme's courses in the page's format, to edit them."""
    return "\n".join(f"{c.code} | {c.title} | {'; '.join(c.outcomes.splitlines())}" for c in programme.courses)


def _programme_form(values: dict[str, str]) -> ProgrammeIn:
    try:
        graduates = int(values["graduates"] or 0)
    except ValueError:
        raise InvalidInput(N_("graduates per year must be a number"), where="graduates") from None
    return ProgrammeIn(
        name=values["name"].strip(),
        province=values["province"].strip() or None,
        graduates_per_year=graduates,
        courses=_programme_courses(values["courses"]),
    )


def _programme_edit_page(
    request: Request, me: Principal, programme_id: int, status: int = 200, **context: Any
) -> Response:
    with transaction(request) as s:
        programme = programmes.get_programme(s, programme_id)
    if not programmes.may_change(me, programme):
        raise PermissionDenied(programmes.EDIT_REFUSED)
    if "form" not in context:
        context["form"] = {
            "name": programme.name,
            "province": programme.province or "",
            "graduates": str(programme.graduates_per_year),
            "courses": _courses_text(programme),
        }
    return _page(request, "skills/programme_edit.html", status, programme=programme, **context)


@router.get("/programmes/{programme_id}/edit", response_class=HTMLResponse)
def programme_edit(request: Request, me: Member, programme_id: int) -> Response:
    return _programme_edit_page(request, me, programme_id)


@router.post("/programmes/{programme_id}/edit", response_class=HTMLResponse)
async def programme_edit_post(request: Request, me: Member, programme_id: int) -> Response:
    await check_csrf(request)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("name", "province", "graduates", "courses")}
    try:
        data = _programme_form(values)
        with transaction(request) as s:
            programmes.update_programme(s, me, programme_id, data)
    except (HerdsecError, ValidationError) as exc:
        if isinstance(exc, PermissionDenied | NotFound):
            raise
        return _programme_edit_page(request, me, programme_id, 422, form=values, error=_error(exc))
    return RedirectResponse(f"/skills/programmes/{programme_id}?notice=saved", status_code=303)


@router.post("/programmes/{programme_id}/delete", response_class=HTMLResponse)
async def programme_delete(request: Request, me: Member, programme_id: int) -> Response:
    await check_csrf(request)
    with transaction(request) as s:
        programmes.delete_programme(s, me, programme_id)
    return RedirectResponse("/skills/programmes?deleted=programme", status_code=303)


@router.post("/programmes", response_class=HTMLResponse)
async def programmes_post(request: Request, me: Member) -> Response:
    await check_csrf(request)
    form = await request.form(max_part_size=request.app.state.settings.max_upload_bytes)
    values = {k: str(form.get(k) or "") for k in ("name", "province", "graduates", "courses")}
    upload = form.get("file")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            courses: list[Any] = programmes.read_courses_csv(await upload.read(), upload.filename)
        else:
            courses = _programme_courses(values["courses"])
        data = ProgrammeIn(
            name=values["name"].strip(),
            province=values["province"].strip() or None,
            graduates_per_year=int(values["graduates"] or 0),
            courses=courses,
        )
        with transaction(request) as s:
            created = programmes.create_programme(s, me, data)
    except ValueError as exc:  # int() of the graduates field, or pydantic's ValidationError
        message = _error(exc) if isinstance(exc, ValidationError) else gettext("graduates per year must be a number")
        return _programmes_error(request, message, values)
    except HerdsecError as exc:
        return _programmes_error(request, exc.render(gettext), values)
    return RedirectResponse(f"/skills/programmes/{created.id}?notice=created", status_code=303)


def _programmes_error(request: Request, message: str, values: dict[str, str]) -> Response:
    with transaction(request) as s:
        items = programmes.list_programmes(s)
    return _page(request, "skills/programmes.html", 422, programmes=items, form=values, error=message)


@router.get("/programmes/{programme_id}", response_class=HTMLResponse)
def programme_page(
    request: Request, me: Member, programme_id: int, role: str = "", notice: str | None = None
) -> Response:
    with transaction(request) as s:
        programme = programmes.get_programme(s, programme_id)
        coverage = programmes.programme_coverage(s, programme_id)
        closest = programmes.programme_roles(s, programme_id)
        target = role or closest[0].id
        gaps = programmes.programme_gaps(s, programme_id, target)
        demand = market.market(s, province=programme.province) if programme.province else []
    return _page(
        request,
        "skills/programme.html",
        programme=programme,
        coverage=coverage,
        closest=closest,
        gaps=gaps,
        target=target,
        demand=demand[:10],
        notice=notice,
        may_change=programmes.may_change(me, programme),
    )


def _certifications() -> list[str]:
    return sorted(package_data("certifications.json")["certifications"])


RATE_PAGE = 20  # statements rated per page of the self-rating form


def _rating_view(session: Any, detail: Any, ratings: dict[str, int], view: str, q: str) -> dict[str, Any]:
    """One page of a role's statements to rate: a kind (tasks, knowledge, skills), optionally filtered by words
    (in English, or Vietnamese through the glossary), ``RATE_PAGE`` at a time; ratings elsewhere ride along."""
    kind, _sep, number = (view or "task:1").partition(":")
    groups = {"task": detail.tasks, "knowledge": detail.knowledge, "skill": detail.skills}
    if kind not in groups:
        kind = "task"
    items = groups[kind]
    needle = q.strip().lower()
    if needle:
        own = {st.code for st in items}
        found = {h.code for h in service.search_statements(session, q, kind, limit=100) if h.code in own}
        items = [st for st in items if needle in st.text_en.lower() or needle in st.code.lower() or st.code in found]
    pages = max(1, -(-len(items) // RATE_PAGE))
    page = min(max(int(number) if ascii_digits(number) else 1, 1), pages)
    shown = items[(page - 1) * RATE_PAGE : page * RATE_PAGE]
    on_page = {st.code for st in shown}
    return {
        "kind": kind,
        "page": page,
        "pages": pages,
        "matching": len(items),
        "shown": shown,
        "q": q,
        "carried": {code: level for code, level in ratings.items() if level and code not in on_page},
        "counts": {k: (len(v), sum(1 for st in v if ratings.get(st.code))) for k, v in groups.items()},
    }


def _pasted_ratings(session: Session, text: str) -> tuple[dict[str, int], dict[str, list[str]], list[str]]:
    """``CODE=level`` pairs (v2.1.0 or 2017 ids, one per line or comma-separated) → ratings on current ids, the
    2017 ids resolved, and what could not be used."""
    pairs: dict[str, int] = {}
    bad: list[str] = []
    for chunk in text.replace(",", "\n").replace(";", "\n").splitlines():
        if not chunk.strip():
            continue
        code, sep, level = chunk.partition("=") if "=" in chunk else chunk.partition(":")
        if not sep or not ascii_digits(level.strip()) or not 0 <= int(level.strip()) <= 4:
            bad.append(chunk.strip())
            continue
        pairs[code.strip().upper()] = int(level.strip())
    found = service.resolve_statements(session, pairs)
    ratings: dict[str, int] = {}
    resolved: dict[str, list[str]] = {}
    for code, rated in pairs.items():
        for current in found.current.get(code, ()):
            ratings[current] = max(rated, ratings.get(current, 0))
        if code in found.current and found.current[code] != (code,):
            resolved[code] = list(found.current[code])
    return ratings, resolved, bad + list(found.retired) + list(found.unknown)


def _me(request: Request, status: int = 200, **context: Any) -> Response:
    with transaction(request) as s:
        roles = service.list_roles(s, "nice") + service.list_roles(s, "custom")
        courses = [(c.id, c.title, p.name) for p in programmes.list_programmes(s) for c in p.courses]
        target = context.get("target")
        ratings = context.get("chosen", {}).get("ratings", {})
        view = _rating_view(s, target, ratings, context.pop("view", ""), context.pop("q", "")) if target else None
    context.setdefault("result", None)
    context.setdefault("pasted", None)
    context.setdefault("chosen", {"certifications": [], "courses": [], "ratings": {}})
    return _page(
        request,
        "skills/me.html",
        status,
        roles=roles,
        certifications=_certifications(),
        courses=courses,
        rating=view,
        **context,
    )


@router.get("/me", response_class=HTMLResponse)
def me_page(request: Request, me: Visitor, target: str = "") -> Response:
    with transaction(request) as s:
        detail = service.role_detail(s, target) if target else None
    return _me(request, target=detail)


@router.post("/me", response_class=HTMLResponse)
async def me_post(request: Request, me: Visitor) -> Response:
    """The self-rating form: ``view`` (``kind:page``) moves between pages of statements keeping every rating;
    without it, the fit and the path are computed."""
    await check_csrf(request)
    form = await request.form()
    target = str(form.get("target") or "")
    ratings: dict[str, int] = {}
    for key, value in form.multi_items():
        if key.startswith("rate:") and ascii_digits(str(value)):
            ratings[key[5:]] = int(str(value))
    chosen_courses = [int(str(c)) for c in form.getlist("course") if ascii_digits(str(c))]
    chosen_certs = [str(c) for c in form.getlist("certification")]
    view, q = str(form.get("view") or ""), str(form.get("q") or "")
    error, result, pasted = None, None, None
    with transaction(request) as s:
        paste = str(form.get("paste") or "")
        if paste.strip():
            extra, resolved, unused = _pasted_ratings(s, paste)
            ratings = {**ratings, **extra}
            pasted = {"count": len(extra), "resolved": resolved, "unused": unused}
        try:
            detail = service.role_detail(s, target) if target else None
            if not view:
                result = programmes.profile(
                    s,
                    ProfileIn(
                        ratings={k: v for k, v in ratings.items() if v},
                        certifications=chosen_certs,
                        courses=chosen_courses,
                        target=target or None,
                    ),
                )
        except HerdsecError as exc:
            detail, error = None, exc.render(gettext)
    chosen = {"certifications": chosen_certs, "courses": chosen_courses, "ratings": ratings}
    return _me(
        request,
        422 if error else 200,
        target=detail,
        result=result,
        error=error,
        chosen=chosen,
        view=view,
        q=q,
        pasted=pasted,
    )


def _market_filters(province: str, sector: str, since: str) -> dict[str, Any]:
    try:
        start = date.fromisoformat(since) if since else None
    except ValueError:
        raise InvalidInput(N_("dates are written YYYY-MM-DD"), where="since") from None
    return {"province": province or None, "sector": sector or None, "since": start}


def number(value: float) -> str:
    """A count or a share of graduates as a person reads it: ``2`` rather than ``2.0``, ``6.7`` stays."""
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


@router.get("/market", response_class=HTMLResponse)
def market_page(request: Request, me: Member, province: str = "", sector: str = "", since: str = "") -> Response:
    error = None
    try:
        filters = _market_filters(province, sector, since)
    except HerdsecError as exc:
        filters, error = {}, exc.render(gettext)
    with transaction(request) as s:
        cells = market.market(s, **filters)
        by_sector = market.demand_by(s, "sector", **filters)
        by_month = market.demand_by(s, "month", **filters)
        provinces_known, sectors_known = market.choices(s)
        names = {r.code: (r.name_en, r.name_vi) for r in service.list_roles(s)}
    roles = sorted({c.role for c in cells})
    provinces = sorted({c.province for c in cells})
    grid = {(c.role, c.province): c for c in cells}
    # Shortages and surpluses are shaded on their own scales, so that a few large surpluses (a big programme)
    # do not wash out every shortage.
    peak_up = max((c.gap for c in cells if c.gap > 0), default=1.0)
    peak_down = max((-c.gap for c in cells if c.gap < 0), default=1.0)
    return _page(
        request,
        "skills/market.html",
        422 if error else 200,
        cells=cells,
        roles=roles,
        provinces=provinces,
        grid=grid,
        names=names,
        peak_up=peak_up,
        peak_down=peak_down,
        number=number,
        choices={"province": provinces_known, "sector": sectors_known},
        filtered=any(filters.values()),
        form={"province": province, "sector": sector, "since": since},
        error=error,
        breakdowns=[(N_("Postings by sector"), by_sector), (N_("Postings by month"), by_month)],
    )


@router.get("/market.csv")
def market_csv(request: Request, me: Member, province: str = "", sector: str = "", since: str = "") -> Response:
    with transaction(request) as s:
        cells = market.market(s, **_market_filters(province, sector, since))
    return Response(
        market.market_csv(cells),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="skills-market.csv"'},
    )


def _team_page(request: Request, status: int = 200, **context: Any) -> Response:
    with transaction(request) as s:
        roles = service.list_roles(s, "nice") + service.list_roles(s, "custom")
        categories = {g.code: g for g in service.list_groups(s, "category")}
    order = {code: i for i, code in enumerate(categories)}
    roles.sort(key=lambda r: (order.get(r.category or "", len(order)), r.framework != "nice", r.code))
    context.setdefault("lines", None)
    context.setdefault("summary", [])
    context.setdefault("chosen", {"team": {}, "needed": []})
    names = {r.code: r for r in roles}
    return _page(request, "skills/team.html", status, roles=roles, categories=categories, names=names, **context)


@router.get("/team", response_class=HTMLResponse)
def team_page(request: Request, me: Member) -> Response:
    return _team_page(request)


def _headcounts(form: Any) -> tuple[dict[str, int], dict[str, str], str | None]:
    """The team's headcounts from the ``have:CODE`` fields: (counts > 0, every typed value, the first bad field)."""
    team: dict[str, int] = {}
    typed: dict[str, str] = {}
    bad = None
    for key, value in form.multi_items():
        text = str(value).strip()
        if not key.startswith("have:") or not text:
            continue
        typed[key[5:]] = text
        if not ascii_digits(text):
            bad = bad or key[5:]
        elif int(text) > 0:
            team[key[5:]] = int(text)
    return team, typed, bad


@router.post("/team", response_class=HTMLResponse)
async def team_post(request: Request, me: Member) -> Response:
    await check_csrf(request)
    form = await request.form()
    team, typed, bad = _headcounts(form)
    needed = [str(n) for n in form.getlist("need")]
    error, lines, summary = None, None, []
    try:
        if bad:
            raise InvalidInput(N_("the number of people for %(role)s is not a whole number"), where="have", role=bad)
        if not needed:
            raise InvalidInput(N_("choose at least one role the team needs"), where="need")
        data = TeamIn(team=team, needed=needed)
        with transaction(request) as s:
            lines = market.team(s, data)
            summary = market.team_categories(s, data)
    except HerdsecError as exc:
        error = exc.render(gettext)
    return _team_page(
        request,
        422 if error else 200,
        lines=lines,
        summary=summary,
        error=error,
        chosen={"team": typed, "needed": needed},
    )
