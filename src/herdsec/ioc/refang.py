"""Defanged indicators back to their real form (``hxxp://evil[.]com`` → ``http://evil.com``), and defanging for
display.

What is refanged, anywhere in a text (case-insensitive):

- ``hxxp``, ``hxxps`` (``hXXp``, ``HXXPS`` …) and ``fxp`` as a scheme, i.e. followed by ``:``, ``[:]`` or ``[://]``;
- ``[.]``, ``(.)``, ``{.}``, ``[dot]``, ``(dot)``, ``{dot}`` (a space allowed inside the brackets) → ``.``;
- ``[@]``, ``(@)``, ``{@}``, ``[at]``, ``(at)``, ``{at}`` → ``@``;
- ``[:]``, ``(:)`` → ``:``; ``[://]`` → ``://``; ``[/]`` → ``/``;
- ``\\.`` → ``.`` between letters or digits, unless the token is a registry key or a Windows path
  (``HKCR\\.exe``, ``HKEY_USERS\\.DEFAULT`` and ``C:\\dir\\.hidden`` are real).

The bracketed dot and at forms are refanged only between two word characters (``evil[.]com``, not a lone ``(.)``).
A bare `` dot `` or `` at `` between words is NOT refanged: it is ordinary English ("polka dot", "at home") and
Vietnamese text borrows the words too, so refanging it would invent domains and addresses in prose.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Final

_BRACKETED = r"\[\s?{0}\s?\]|\(\s?{0}\s?\)|\{{\s?{0}\s?\}}"
_DOT = _BRACKETED.format(r"(?:\.|dot)")
_AT = _BRACKETED.format(r"(?:@|at)")
# The leading lookahead lets the scan skip, in one step, every position that cannot start a marker.
_DEFANG = re.compile(
    r"(?=[hf\[({\\])(?:(?P<scheme>\bh(?:xx|tx|xt)p(?=s?(?:\[:\]|\(:\)|:|\[://\])))"
    r"|(?P<ftp>\bfxp(?=s?(?:\[:\]|\(:\)|:|\[://\])))"
    rf"|(?P<dot>(?<=\w)(?:{_DOT})(?=\w))"
    rf"|(?P<at>(?<=\w)(?:{_AT})(?=\w))"
    r"|(?P<slashes>\[://\])"
    r"|(?P<colon>(?<=\w)(?:\[:\]|\(:\)))"
    r"|(?P<slash>\[/\])"
    r"|(?P<escaped>(?<=[A-Za-z0-9])\\\.(?=[A-Za-z0-9])))",
    re.IGNORECASE,
)
_REPLACEMENTS: Final = {
    "scheme": "http",
    "ftp": "ftp",
    "dot": ".",
    "at": "@",
    "slashes": "://",
    "colon": ":",
    "slash": "/",
    "escaped": ".",
}
_PATH_START = re.compile(r"(?:COMPUTER\\)?(?:HK(?:LM|CU|CR|CC|U|PD|EY_)|\\REGISTRY)|[A-Z]:\\|\\\\", re.IGNORECASE)
_TOKEN_WINDOW: Final = 256


def _is_escaped_dot_defang(text: str, position: int) -> bool:
    """``\\.`` at ``position`` is a defanged dot unless its token so far looks like a registry key or a path."""
    window = text[max(0, position - _TOKEN_WINDOW) : position]
    token = window[max(window.rfind(" "), window.rfind("\n"), window.rfind("\t")) + 1 :]
    return _PATH_START.match(token) is None and "\\" not in token.replace("\\.", "")


def _replacement(match: re.Match[str]) -> str | None:
    """What a defang marker stands for, or None when it is to be left alone."""
    group = match.lastgroup or ""
    if group == "escaped" and not _is_escaped_dot_defang(match.string, match.start()):
        return None
    return _REPLACEMENTS[group]


def _substitute(match: re.Match[str]) -> str:
    replacement = _replacement(match)
    return match[0] if replacement is None else replacement


def refang(text: str) -> str:
    """The text with every defang marker listed in this module's docstring replaced by what it stands for."""
    return _DEFANG.sub(_substitute, text)


class OffsetMap:
    """Maps offsets in a refanged text back to offsets in the original text.

    Keeps one entry per replacement (not per character), so memory follows the number of defang markers.
    """

    __slots__ = ("_new_ends", "_new_starts", "_old_ends", "_old_starts")

    def __init__(self) -> None:
        self._new_starts: list[int] = []
        self._new_ends: list[int] = []
        self._old_starts: list[int] = []
        self._old_ends: list[int] = []

    def add(self, new_start: int, new_end: int, old_start: int, old_end: int) -> None:
        """Record that original ``[old_start, old_end)`` became refanged ``[new_start, new_end)`` (in order)."""
        self._new_starts.append(new_start)
        self._new_ends.append(new_end)
        self._old_starts.append(old_start)
        self._old_ends.append(old_end)

    def start(self, position: int) -> int:
        """The original offset of a span starting at refanged ``position`` (inside a replacement: its start)."""
        index = bisect_right(self._new_starts, position) - 1
        return self._shift(index, position, inside=self._old_starts)

    def end(self, position: int) -> int:
        """The original offset of a span ending at refanged ``position`` (inside a replacement: its end)."""
        index = bisect_left(self._new_starts, position) - 1
        return self._shift(index, position, inside=self._old_ends)

    def _shift(self, index: int, position: int, inside: list[int]) -> int:
        if index < 0:
            return position
        if position < self._new_ends[index]:
            return inside[index]
        return self._old_ends[index] + position - self._new_ends[index]


def refang_mapped(text: str) -> tuple[str, OffsetMap]:
    """``refang(text)`` and the map from its offsets back to ``text``'s."""
    pieces: list[str] = []
    offsets = OffsetMap()
    last = 0
    shift = 0
    for match in _DEFANG.finditer(text):
        replacement = _replacement(match)
        if replacement is None:
            continue
        start, end = match.span()
        pieces.append(text[last:start])
        pieces.append(replacement)
        offsets.add(start + shift, start + shift + len(replacement), start, end)
        shift += len(replacement) - (end - start)
        last = end
    pieces.append(text[last:])
    return "".join(pieces), offsets


_FANGED_SCHEME = re.compile(r"\A(?:(http)|(ftp))(?=s?://)", re.IGNORECASE)
_FANGED_DOT = re.compile(r"(?<=\w)\.(?=\w)")


def _defang_scheme(match: re.Match[str]) -> str:
    return "hxxp" if match[1] else "fxp"


def defang(value: str) -> str:
    """A value safe to show or paste: ``http``/``https``/``ftp`` scheme → ``hxxp``/``hxxps``/``fxp``, and every dot
    between two word characters → ``[.]`` (``http://evil.com/a.php`` → ``hxxp://evil[.]com/a[.]php``).

    ``refang(defang(v)) == v`` for any value that carries no defang marker itself.
    """
    return _FANGED_DOT.sub("[.]", _FANGED_SCHEME.sub(_defang_scheme, value))
