"""Zeek TSV logs (``conn.log``, ``dns.log``, ``http.log`` …): columns from the ``#fields`` header, the ``ts`` column
as the time, and for ``http.log`` the ``host`` and ``uri`` columns joined into the URL requested."""

from __future__ import annotations

from datetime import datetime

from herdsec.scan.readers.base import Reader, epoch


class Zeek(Reader):
    name = "zeek"
    description = "Zeek TSV log (fields by the #fields header)"

    def __init__(self, fields: list[str] | None = None, separator: str = "\t") -> None:
        self.fields = fields or []
        self.separator = separator

    def configure(self, head: list[str]) -> Reader:
        separator = "\t"
        for line in head:
            if line.startswith("#separator"):
                code = line.split(None, 1)[1].strip() if " " in line else "\\x09"
                separator = bytes(code, "ascii").decode("unicode_escape") if code.startswith("\\x") else code
            elif line.startswith("#fields"):
                return Zeek(line.rstrip("\n").split(separator)[1:], separator)
        return Zeek([], separator)

    def _column(self, line: str, name: str) -> str | None:
        if name not in self.fields or line.startswith("#"):
            return None
        cells = line.rstrip("\n").split(self.separator)
        index = self.fields.index(name)
        value = cells[index] if index < len(cells) else None
        return None if value in (None, "-", "(empty)") else value

    def timestamp(self, line: str) -> datetime | None:
        value = self._column(line, "ts")
        return epoch(value) if value else None

    def urls(self, line: str) -> list[str]:
        host, uri = self._column(line, "host"), self._column(line, "uri")
        if host and uri:
            port = self._column(line, "id.resp_p")
            authority = host if not port or port in ("80", "443") or ":" in host else f"{host}:{port}"
            return [f"http://{authority}{uri if uri.startswith('/') else '/' + uri}"]
        return []


def detect(head: list[str]) -> Reader | None:
    return Zeek().configure(head) if head and head[0].startswith("#separator") else None
