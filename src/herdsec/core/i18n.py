"""Vietnamese and English: message catalogues (Babel ``.po`` files shipped in the package) and the current language.

The ``.po`` files are compiled in memory when first used, so the package needs no build step. The language of the
current request or command lives in a context variable; :func:`gettext` reads it.
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Protocol

LANGUAGES = ("vi", "en")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("herdsec_language", default="en")


class _Translations(Protocol):
    def gettext(self, message: str) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class _Identity:
    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


@cache
def translations(language: str) -> _Translations:
    """The compiled catalogue of a language (English is the source language: identity)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "en" or not po.exists():
        return _Identity()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    result: _Translations = Translations(buffer, domain=DOMAIN)
    return result


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> contextvars.Token[str]:
    return _current.set(language if language in LANGUAGES else "en")


@contextmanager
def using_language(language: str) -> Iterator[None]:
    token = set_language(language)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def translate(message: str, language: str) -> str:
    return translations(language).gettext(message)


def negotiate(accept_language: str | None, default: str) -> str:
    """Pick vi or en from an ``Accept-Language`` header (quality values respected), else the default."""
    if not accept_language:
        return default
    best: tuple[float, str] | None = None
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, *params = (p.strip() for p in part.split(";"))
        primary = tag.lower().split("-")[0]
        quality = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if not 0.0 < quality <= 1.0 or primary not in LANGUAGES:
            continue
        score = quality - index * 1e-6  # equal qualities: the earlier tag wins
        if best is None or score > best[0]:
            best = (score, primary)
    return best[1] if best else default
