"""Small checks on text that several modules need the same way."""

from __future__ import annotations


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits ``0-9`` (``str.isdigit`` is also true for ``²`` or ``٣``, which
    ``int`` then refuses or reads as another number)."""
    return text.isascii() and text.isdigit()
