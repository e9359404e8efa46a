"""Zeek JSON logs: ``ts`` (epoch or ISO), ``uid``; for ``http`` records ``host`` + ``uri`` joined into the URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herdsec.scan.readers.base import Reader
from herdsec.scan.readers.jsonlines import JsonLines, objects


class ZeekJson(JsonLines):
    name = "zeek-json"
    description = "Zeek JSON log"
    time_keys = ("ts",)

    def urls_of(self, obj: Mapping[str, Any]) -> list[str]:
        host, uri = obj.get("host"), obj.get("uri")
        if not isinstance(host, str) or not isinstance(uri, str):
            return []
        port = obj.get("id.resp_p")
        authority = f"{host}:{port}" if isinstance(port, int) and port not in (80, 443) else host
        return [f"http://{authority}{uri if uri.startswith('/') else '/' + uri}"]


def detect(head: list[str]) -> Reader | None:
    found = objects(head)
    return ZeekJson() if found and all("ts" in obj and "uid" in obj for obj in found) else None
