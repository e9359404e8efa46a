"""A small TAXII 2.1 client on top of :mod:`herdsec.core.outbound`: discovery, API root, collection, objects
(``added_after`` + ``next`` paging) and adding objects (envelopes, then status polling).

Every answer is checked for shape before anything uses it: a page that is not a TAXII envelope raises
:class:`TaxiiError` and nothing of it is stored.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import orjson

from herdsec.core.errors import N_, HerdsecError
from herdsec.core.outbound import OutboundPolicy, origin_of, request

MEDIA_TYPE = "application/taxii+json;version=2.1"
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
STATUS_POLLS = 10
STATUS_WAIT = 0.5


class TaxiiError(HerdsecError):
    """The remote answered, but not as a TAXII 2.1 server (garbage, wrong shape, missing collection)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(N_("TAXII server %(url)s: %(reason)s"), where="url", url=url[:300], reason=reason)


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str | None = None
    password: str | None = None
    api_key: str | None = None

    def headers(self) -> dict[str, str]:
        if self.api_key:
            return {"Authorization": f"Bearer {self.api_key}"}
        if self.username is not None and self.password is not None:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        return {}


@dataclass(frozen=True, slots=True)
class Page:
    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    added_last: str | None  # X-TAXII-Date-Added-Last (or -First when the page holds one object)


@dataclass(frozen=True, slots=True)
class AddStatus:
    id: str | None
    status: str
    success_count: int
    failure_count: int
    pending_count: int


def _json_object(body: bytes, url: str) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise TaxiiError(url, f"the answer is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise TaxiiError(url, "the answer is not a JSON object")
    return data


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class TaxiiClient:
    """One collection of one TAXII 2.1 server. ``url`` is the server's discovery URL (``…/taxii2/``) or an API
    root URL; the collection is named by its id."""

    def __init__(
        self, url: str, collection_id: str, *, policy: OutboundPolicy, credentials: Credentials | None = None
    ) -> None:
        self.url, self.collection_id, self.policy = url, collection_id, policy
        self.credentials = credentials or Credentials()
        self._api_root: str | None = None
        self._max_content_length: int | None = None

    def _auth(self, url: str) -> dict[str, str]:
        """Credentials go only to the configured server (not to an API root that discovery names elsewhere)."""
        return self.credentials.headers() if origin_of(url) == origin_of(self.url) else {}

    def _get(self, url: str) -> tuple[dict[str, Any], dict[str, str]]:
        headers = {"Accept": MEDIA_TYPE, **self._auth(url)}
        response = request("GET", url, policy=self.policy, headers=headers)
        return _json_object(response.body, url), {k.lower(): v for k, v in response.headers.items()}

    def api_root(self) -> str:
        """The API root URL (from discovery when ``url`` is a discovery URL)."""
        if self._api_root is not None:
            return self._api_root
        url = self.url if self.url.endswith("/") else self.url + "/"
        data, _headers = self._get(url)
        if "api_roots" in data or "default" in data:
            roots = data.get("api_roots")
            default = data.get("default")
            chosen = default if isinstance(default, str) and default else None
            if chosen is None and isinstance(roots, list) and roots and isinstance(roots[0], str):
                chosen = roots[0]
            if chosen is None:
                raise TaxiiError(url, "the discovery answer names no API root")
            root = urljoin(url, chosen)
            root = root if root.endswith("/") else root + "/"
            data, _headers = self._get(root)
        else:
            root = url
        if not isinstance(data.get("title"), str) or not isinstance(data.get("versions", []), list):
            raise TaxiiError(root, "the answer is not a TAXII API root (no title)")
        max_length = data.get("max_content_length")
        self._max_content_length = max_length if isinstance(max_length, int) and max_length > 0 else None
        self._api_root = root
        return root

    def _collection_url(self) -> str:
        return urljoin(self.api_root(), f"collections/{self.collection_id}/")

    def collection(self) -> dict[str, Any]:
        url = self._collection_url()
        data, _headers = self._get(url)
        if data.get("id") != self.collection_id:
            raise TaxiiError(url, f"the answer is not collection {self.collection_id}")
        return data

    def get_objects(self, *, added_after: str | None, next_token: str | None, limit: int) -> Page:
        params: dict[str, str] = {"limit": str(limit)}
        if added_after:
            params["added_after"] = added_after
        if next_token:
            params["next"] = next_token
        url = urljoin(self._collection_url(), "objects/") + "?" + urlencode(params)
        data, headers = self._get(url)
        objects = data.get("objects", [])
        if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
            raise TaxiiError(url, "the envelope's objects are not a list of JSON objects")
        more = data.get("more", False)
        token = data.get("next")
        if not isinstance(more, bool) or (token is not None and not isinstance(token, str)):
            raise TaxiiError(url, "the envelope's more/next are malformed")
        added = headers.get("x-taxii-date-added-last") or headers.get("x-taxii-date-added-first")
        if added is not None and not TIMESTAMP_RE.match(added):
            raise TaxiiError(url, "the X-TAXII-Date-Added-Last header is not a timestamp")
        return Page(objects, more, token or None, added)

    @property
    def max_content_length(self) -> int | None:
        self.api_root()
        return self._max_content_length

    def add_objects(self, objects: list[dict[str, Any]]) -> AddStatus:
        """POST an envelope and poll the status until it is complete (or the polls run out)."""
        url = urljoin(self._collection_url(), "objects/")
        body = orjson.dumps({"objects": objects})
        headers = {"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE, **self._auth(url)}
        response = request("POST", url, policy=self.policy, headers=headers, body=body)
        status = self._status(_json_object(response.body, url), url)
        polls = 0
        while status.status == "pending" and status.id and polls < STATUS_POLLS:
            time.sleep(STATUS_WAIT)
            polls += 1
            status_url = urljoin(self.api_root(), f"status/{status.id}/")
            data, _headers = self._get(status_url)
            status = self._status(data, status_url)
        return status

    def _status(self, data: dict[str, Any], url: str) -> AddStatus:
        state = data.get("status")
        if state not in ("complete", "pending"):
            raise TaxiiError(url, "the answer is not a TAXII status resource")
        status_id = data.get("id")
        return AddStatus(
            status_id if isinstance(status_id, str) else None,
            str(state),
            _int(data, "success_count"),
            _int(data, "failure_count"),
            _int(data, "pending_count"),
        )
