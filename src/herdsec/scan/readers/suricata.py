"""Suricata ``eve.json``: the ``timestamp`` field, and for ``http`` events ``http.hostname`` + ``http.url`` (and
``http.http_port``) joined into the URL requested."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herdsec.scan.readers.base import Reader, path
from herdsec.scan.readers.jsonlines import JsonLines, objects


class Eve(JsonLines):
    name = "eve"
    description = "Suricata eve.json"
    time_keys = ("timestamp",)

    def urls_of(self, obj: Mapping[str, Any]) -> list[str]:
        host, url = path(obj, "http.hostname"), path(obj, "http.url")
        if not isinstance(host, str) or not isinstance(url, str):
            return []
        if "://" in url:
            return [url]
        port = path(obj, "http.http_port")
        authority = f"{host}:{port}" if isinstance(port, int) and port not in (80, 443) else host
        return [f"http://{authority}{url if url.startswith('/') else '/' + url}"]


def detect(head: list[str]) -> Reader | None:
    found = objects(head)
    return Eve() if found and all("event_type" in obj and "timestamp" in obj for obj in found) else None
