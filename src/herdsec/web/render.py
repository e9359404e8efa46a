"""Server-rendered HTML: one Jinja2 environment (autoescaped, gettext-aware) shared by every module's pages."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import escape

from herdsec import __version__
from herdsec.core.i18n import LANGUAGE_NAMES, current_language, gettext, ngettext
from herdsec.identity.logic import KIND_LABELS, ROLE_LABELS, SIZE_LABELS
from herdsec.web.security import csrf_token

PACKAGE = Path(__file__).resolve().parent.parent
# Each module with pages keeps its templates in <module>/templates/<module>/; add new modules here.
TEMPLATE_DIRS = [PACKAGE / "web" / "templates", PACKAGE / "identity" / "templates", PACKAGE / "intel" / "templates"]
TEMPLATE_DIRS += [PACKAGE / "skills" / "templates"]


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Jinja marks translated strings as safe markup; escape them first so that a catalogue can never inject HTML
    # (and so that "<key>" in a message is shown, not parsed as a tag).
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: escape(gettext(message)),
        lambda singular, plural, n: escape(ngettext(singular, plural, n)),
        newstyle=True,
    )
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    env.globals.update(
        version=__version__,
        language_names=LANGUAGE_NAMES,
        kind_labels={k.value: v for k, v in KIND_LABELS.items()},
        size_labels={k.value: v for k, v in SIZE_LABELS.items()},
        role_labels={k.value: v for k, v in ROLE_LABELS.items()},
    )
    return env


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("principal", getattr(request.state, "principal", None))
    context.update(
        request=request,
        lang=current_language(),
        csrf_token=csrf_token(request),
        path=request.url.path,
    )
    html = environment().get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status)
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        settings = request.app.state.settings
        response.set_cookie(
            "herdsec_csrf", seed, httponly=True, samesite="strict", secure=settings.secure_cookies, path="/"
        )
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)
