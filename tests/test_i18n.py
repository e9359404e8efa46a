"""The Vietnamese catalogue is complete and well-formed, and the language plumbing picks and applies it.

The messages are re-extracted from the current source tree with the project's ``babel.cfg`` (the same command a
developer runs), so adding a user-facing string without translating it turns this file red.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from herdsec.core.i18n import LOCALE_DIR, negotiate, ngettext, translate, translations, using_language

ROOT = Path(__file__).resolve().parents[1]
PO_FILE = LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po"
UPDATE_HINT = (
    "run: .venv/bin/pybabel extract -F babel.cfg -o src/herdsec/locale/messages.pot --no-location --sort-output "
    "--project HerdSec . && .venv/bin/pybabel update -i src/herdsec/locale/messages.pot -d src/herdsec/locale "
    "-l vi -D messages, then translate the new entries in " + str(PO_FILE.relative_to(ROOT))
)

# A %-conversion as Python's ``%`` operator reads it (``%%`` included, so that it is not taken for a stray ``%``).
CONVERSION = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


def _ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _forms(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, tuple):
        return message.string
    return (message.string or "",)


def _key(message: Message) -> str:
    return _ids(message)[0]


def _placeholders(text: str) -> set[str]:
    """The named conversions of a format string, e.g. ``{"%(name)r", "%(max)d"}``."""
    return {m.group(0) for m in CONVERSION.finditer(text) if m.group("name") is not None}


def _has_stray_percent(text: str) -> bool:
    return "%" in CONVERSION.sub("", text)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages of the source tree as it is now, extracted exactly as documented in the catalogue workflow."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    command = [
        sys.executable,
        "-m",
        "babel.messages.frontend",
        "extract",
        "-F",
        "babel.cfg",
        "-o",
        str(pot),
        "--no-location",
        "--sort-output",
        "--project",
        "HerdSec",
        ".",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stdout}\n{result.stderr}"
    with pot.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def vi_catalog() -> Catalog:
    with PO_FILE.open("rb") as handle:
        return read_po(handle, locale="vi", domain="messages")


def _entries(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def test_extraction_finds_the_messages_of_python_code_and_templates(extracted: Catalog) -> None:
    ids = {_key(m) for m in _entries(extracted)}
    # One from an N_() error in the identity services, one from a Jinja template, one ngettext from a template.
    assert "no sharing group with id %(id)s" in ids
    assert "Log in" in ids
    assert "%(num)d organization" in ids
    assert len(ids) > 100


def test_every_extracted_message_has_a_vietnamese_translation(extracted: Catalog, vi_catalog: Catalog) -> None:
    missing: list[str] = []
    for message in _entries(extracted):
        entry = vi_catalog.get(message.id)
        if entry is None:
            missing.append(f"{_key(message)!r}: not in the .po file")
        elif entry.fuzzy:
            missing.append(f"{_key(message)!r}: marked fuzzy")
        elif isinstance(message.id, tuple) != isinstance(entry.id, tuple):
            missing.append(f"{_key(message)!r}: singular/plural mismatch with the source")
        elif not all(form.strip() for form in _forms(entry)):
            missing.append(f"{_key(message)!r}: empty translation")
    assert not missing, f"{len(missing)} message(s) without a Vietnamese translation ({UPDATE_HINT}):\n" + "\n".join(
        missing
    )


def test_catalogue_header_is_vietnamese_utf8_with_one_plural_form(vi_catalog: Catalog) -> None:
    assert str(vi_catalog.locale) == "vi"
    assert vi_catalog.charset.lower() == "utf-8"
    assert vi_catalog.num_plurals == 1
    assert vi_catalog.plural_expr.strip() == "0"
    assert not vi_catalog.fuzzy
    for message in _entries(vi_catalog):
        if isinstance(message.string, tuple):
            assert len(message.string) == 1, f"{_key(message)!r} must have exactly one plural form in Vietnamese"


def test_translations_keep_exactly_the_placeholders_of_the_source(vi_catalog: Catalog) -> None:
    problems: list[str] = []
    for message in _entries(vi_catalog):
        expected = set().union(*(_placeholders(text) for text in _ids(message)))
        for form in _forms(message):
            if not form:
                continue
            found = _placeholders(form)
            if found != expected:
                problems.append(f"{_key(message)!r} -> {form!r}: expected {sorted(expected)}, found {sorted(found)}")
            if _has_stray_percent(form) and not any(_has_stray_percent(text) for text in _ids(message)):
                problems.append(f"{_key(message)!r} -> {form!r}: a lone '%' breaks %-formatting (write '%%')")
    assert not problems, "\n".join(problems)


def test_translate_uses_the_catalogue_for_vi_and_the_source_for_en(vi_catalog: Catalog) -> None:
    assert translate("Log in", "vi") == "Đăng nhập"
    assert translate("Log in", "en") == "Log in"
    for message in _entries(vi_catalog):
        if not isinstance(message.id, tuple):
            assert translate(message.id, "en") == message.id
            assert translate(message.id, "vi") == message.string


def test_unknown_message_falls_back_to_the_source_text() -> None:
    assert translate("a string nobody translated", "vi") == "a string nobody translated"


def test_plural_messages_use_the_single_vietnamese_form() -> None:
    with using_language("vi"):
        for n in (0, 1, 2, 21):
            text = ngettext("%(num)d organization", "%(num)d organizations", n) % {"num": n}
            assert text == f"{n} tổ chức"
    assert translations("en").ngettext("%(num)d organization", "%(num)d organizations", 2) == "%(num)d organizations"


LANGUAGES = ("vi", "en")


@pytest.mark.parametrize("default", LANGUAGES)
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
        ("en-US,en;q=0.9,vi;q=0.5", "en"),
        ("vi", "vi"),
        ("EN-gb", "en"),
        ("en;q=0.5,vi;q=0.8", "vi"),
        ("fr-FR,vi;q=0.3", "vi"),
        ("fr-FR", None),
        ("fr-FR,de;q=0.9", None),
        (";;;q=abc", None),
        ("vi;q=abc", None),
        ("vi;q=0", None),
        ("vi;q=0, en;q=0.0", None),
        ("", None),
        (None, None),
        ("," * 500, None),
    ],
)
def test_negotiate(header: str | None, expected: str | None, default: str) -> None:
    assert negotiate(header, default) == (expected or default)


def test_negotiate_keeps_header_order_between_equal_qualities() -> None:
    assert negotiate("fr-FR,en,vi", "vi") == "en"
