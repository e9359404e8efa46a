"""The one error root of HerdSec and its typed subclasses.

Every error carries an English message that is also its gettext id (mark it with :func:`N_`), the values that fill
its ``%(name)s`` placeholders, and optionally *where* the problem is (a field path, ``file:line``).  Adapters map the
classes once: ``herdsec.web.errors`` to HTTP statuses, ``herdsec.cli.main`` to exit codes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - gettext convention
    """Mark a string for translation without translating it now (it is translated where it is shown)."""
    return message


class Text(str):
    """A translatable piece of a message (a refusal's reason, say): the English text, and the gettext id and values it
    was made from. An error whose values hold Texts shows them in the reader's language too."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> Text:
        made = super().__new__(cls, template % values if values else template)
        made.template, made.values = template, values
        return made

    def translated(self, translate: Callable[[str], str]) -> str:
        values = {k: v.translated(translate) if isinstance(v, Text) else v for k, v in self.values.items()}
        try:
            return translate(self.template) % values if values else translate(self.template)
        except (KeyError, ValueError, TypeError):  # a broken translation must not hide the text
            return str(self)


class HerdsecError(Exception):
    """Root of every error HerdSec raises on purpose."""

    def __init__(self, message: str, /, *, where: str | None = None, **params: Any) -> None:
        self.message = message
        self.where = where
        self.params: Mapping[str, Any] = params
        super().__init__(self.render())

    def render(self, translate: Callable[[str], str] = lambda s: s) -> str:
        text = translate(self.message)
        values = {k: v.translated(translate) if isinstance(v, Text) else v for k, v in self.params.items()}
        try:
            text = text % values if values else text
        except (KeyError, ValueError, TypeError):  # a broken translation must not hide the error
            text = self.message % dict(self.params) if self.params else self.message
        return f"{self.where}: {text}" if self.where else text


class ConfigError(HerdsecError):
    """The settings or the environment are wrong."""


class InvalidInput(HerdsecError):
    """The caller sent something malformed; ``where`` names the field, file or line."""


class NotFound(HerdsecError):
    """The thing named does not exist or is not visible to the caller."""


class Conflict(HerdsecError):
    """The change clashes with what is stored (a duplicate name, a stale version)."""


class AuthenticationRequired(HerdsecError):
    """No valid credentials: missing, malformed, revoked or expired API key, or no session."""


class PermissionDenied(HerdsecError):
    """The caller is known but may not do this."""


class PayloadTooLarge(HerdsecError):
    """The request body or file is over the configured limit."""


class UnsupportedMediaType(HerdsecError):
    """The body is not of a media type the endpoint accepts."""


class NotAcceptable(HerdsecError):
    """The caller accepts no media type the endpoint answers with (``Accept``)."""
