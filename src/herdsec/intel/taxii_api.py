"""TAXII 2.1 server under ``/taxii2/``: discovery, one API root, collections, objects, manifest, versions, status.

A thin adapter: content negotiation (406/415), TAXII error bodies, headers; the rules are in ``intel.taxii``.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from herdsec import __version__
from herdsec.core.errors import N_, NotAcceptable, NotFound, UnsupportedMediaType
from herdsec.identity import Principal
from herdsec.intel import taxii
from herdsec.intel.taxii import Page, Query
from herdsec.web.deps import api_principal, spooled_body, transaction

PREFIX = "/taxii2"
ROOT = "hub"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
Caller = Annotated[Principal, Depends(api_principal)]


# --- bodies and errors -------------------------------------------------------------------------------------------


def error_response(status: int, title: str, description: str, where: str | None = None) -> Response:
    """A TAXII error message; validation problems are 400 in TAXII (the JSON API says 422)."""
    status = 400 if status == 422 else status
    headers = {"WWW-Authenticate": 'Basic realm="herdsec-taxii", Bearer realm="herdsec"'} if status == 401 else None
    body = orjson.dumps(taxii.error_body(status, title, description, where))
    return Response(body, status_code=status, media_type=taxii.TAXII_MEDIA, headers=headers)


def error_bytes(status: int, title: str, description: str) -> tuple[str, bytes]:
    """The same body for the middleware that refuses oversized requests before any route runs."""
    return taxii.TAXII_MEDIA, orjson.dumps(taxii.error_body(status, title, description))


def _taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, bytes | str) else orjson.dumps(body)
    return Response(content, status_code=status, media_type=taxii.TAXII_MEDIA, headers=headers)


def _accept(request: Request, *, stix: bool = False) -> None:
    """:class:`NotAcceptable` (406, a TAXII error body) unless the caller accepts what this endpoint answers with."""
    if not taxii.acceptable(request.headers.get("accept"), stix=stix):
        wanted = "application/taxii+json;version=2.1" + (" or application/stix+json;version=2.1" if stix else "")
        raise NotAcceptable(N_("this server answers with %(types)s only"), where="Accept", types=wanted)


def _page_headers(page: Page) -> dict[str, str]:
    if not page.rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": page.first_added or "",
        "X-TAXII-Date-Added-Last": page.last_added or "",
    }


def _root_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}/{ROOT}/"


def _check_root(root: str) -> None:
    if root != ROOT:
        raise NotFound(N_("no API root %(name)s"), where="api_root", name=root[:60])


def _secret(request: Request) -> str:
    secret: str = request.app.state.settings.secret_key
    return secret


def _query(request: Request, allowed: frozenset[str], default_version: str = "last") -> tuple[Query, str | None]:
    return taxii.parse_query(list(request.query_params.multi_items()), allowed=allowed, default_version=default_version)


# --- discovery, API root, status -------------------------------------------------------------------------------


@router.get("/")
def discovery(request: Request, caller: Caller) -> Response:
    _accept(request)
    root = _root_url(request)
    return _taxii(
        {
            "title": "HerdSec TAXII 2.1",
            "description": "Threat intelligence shared by the members of this HerdSec hub.",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get("/{root}/")
def api_root(request: Request, caller: Caller, root: str) -> Response:
    _accept(request)
    _check_root(root)
    return _taxii(
        {
            "title": "HerdSec hub",
            "description": f"HerdSec {__version__}: collections per audience (community, sharing groups, "
            "your organization, reference data).",
            "versions": [taxii.TAXII_MEDIA],
            "max_content_length": request.app.state.settings.max_upload_bytes,
        }
    )


@router.get("/{root}/status/{status_id}/")
def status(request: Request, caller: Caller, root: str, status_id: str) -> Response:
    _accept(request)
    _check_root(root)
    with transaction(request) as session:
        return _taxii(taxii.get_status(session, caller, status_id))


# --- collections -----------------------------------------------------------------------------------------------


@router.get("/{root}/collections/")
def collections(request: Request, caller: Caller, root: str) -> Response:
    _accept(request)
    _check_root(root)
    with transaction(request) as session:
        found = taxii.list_collections(session, caller)
    return _taxii({"collections": [c.resource() for c in found]})


@router.get("/{root}/collections/{collection_id}/")
def collection(request: Request, caller: Caller, root: str, collection_id: str) -> Response:
    _accept(request)
    _check_root(root)
    with transaction(request) as session:
        return _taxii(taxii.find_collection(session, caller, collection_id).resource())


@router.get("/{root}/collections/{collection_id}/manifest/")
def manifest(request: Request, caller: Caller, root: str, collection_id: str) -> Response:
    _accept(request)
    _check_root(root)
    query, cursor = _query(request, taxii.OBJECT_PARAMS)
    with transaction(request) as session:
        found = taxii.find_collection(session, caller, collection_id)
        page = taxii.get_objects(session, caller, found, query, cursor, secret=_secret(request), manifest=True)
    return _taxii(page.manifest(), headers=_page_headers(page))


@router.get("/{root}/collections/{collection_id}/objects/")
def get_objects(request: Request, caller: Caller, root: str, collection_id: str) -> Response:
    _accept(request, stix=True)
    _check_root(root)
    query, cursor = _query(request, taxii.OBJECT_PARAMS)
    with transaction(request) as session:
        found = taxii.find_collection(session, caller, collection_id)
        page = taxii.get_objects(session, caller, found, query, cursor, secret=_secret(request))
    return _taxii(page.envelope_json(), headers=_page_headers(page))


@router.post("/{root}/collections/{collection_id}/objects/")
async def add_objects(request: Request, caller: Caller, root: str, collection_id: str) -> Response:
    """The body (a TAXII envelope) is streamed to a temporary file, then stored through the bundle ingest."""
    _accept(request)
    _check_root(root)
    ctype = request.headers.get("content-type")
    if not taxii.content_type_ok(ctype):
        raise UnsupportedMediaType(
            N_("send the objects as an envelope of type %(wanted)s (got %(type)s)"),
            where="Content-Type",
            wanted=taxii.TAXII_MEDIA,
            type=(ctype or "no Content-Type")[:80],
        )
    async with spooled_body(request) as spool:

        def work() -> dict[str, Any]:
            with transaction(request) as session:
                found = taxii.find_collection(session, caller, collection_id)
                return taxii.add_objects(session, caller, found, spool)

        return _taxii(await run_in_threadpool(work), status=202)


@router.get("/{root}/collections/{collection_id}/objects/{object_id}/")
def get_object(request: Request, caller: Caller, root: str, collection_id: str, object_id: str) -> Response:
    _accept(request, stix=True)
    _check_root(root)
    query, cursor = _query(request, taxii.ONE_OBJECT_PARAMS)
    with transaction(request) as session:
        found = taxii.find_collection(session, caller, collection_id)
        page = taxii.get_object(session, caller, found, object_id, query, cursor, secret=_secret(request))
    return _taxii(page.envelope_json(), headers=_page_headers(page))


@router.delete("/{root}/collections/{collection_id}/objects/{object_id}/")
def delete_object(request: Request, caller: Caller, root: str, collection_id: str, object_id: str) -> Response:
    _accept(request)
    _check_root(root)
    query, _cursor = _query(request, taxii.DELETE_PARAMS, default_version="all")
    with transaction(request) as session:
        found = taxii.find_collection(session, caller, collection_id)
        taxii.delete_object(session, caller, found, object_id, query)
    return Response(status_code=200, media_type=taxii.TAXII_MEDIA)


@router.get("/{root}/collections/{collection_id}/objects/{object_id}/versions/")
def versions(request: Request, caller: Caller, root: str, collection_id: str, object_id: str) -> Response:
    _accept(request)
    _check_root(root)
    query, cursor = _query(request, taxii.VERSIONS_PARAMS)
    with transaction(request) as session:
        found = taxii.find_collection(session, caller, collection_id)
        page = taxii.get_versions(session, caller, found, object_id, query, cursor, secret=_secret(request))
    return _taxii(page.versions(), headers=_page_headers(page))
