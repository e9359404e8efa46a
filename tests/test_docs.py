"""The documentation keeps up with the code: settings, links, quick start, commands and endpoints."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import typer
from pydantic.fields import FieldInfo

from herdsec.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIG_HEADING = "## Configuration"
CONFIG_COLUMNS = ["Variable", "Default", "Description"]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
EXTERNAL = ("http://", "https://", "mailto:", "tel:")


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _section(text: str, heading: str) -> str:
    """The body of a ``## heading`` section, up to the next heading of the same or a higher level."""
    start = text.index(heading + "\n") + len(heading) + 1
    following = re.search(r"^#{1,2} ", text[start:], re.MULTILINE)
    return text[start : start + following.start()] if following else text[start:]


def _split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().removeprefix("|").removesuffix("|"))
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _code(cell: str) -> str:
    """The text of a cell written as one inline code span (`` `x` ``), or the cell itself."""
    match = re.fullmatch(r"`([^`]*)`", cell)
    return match.group(1) if match else cell


def _config_table() -> list[dict[str, str]]:
    section = _section(README.read_text(encoding="utf-8"), CONFIG_HEADING)
    lines = [line for line in section.splitlines() if line.strip().startswith("|")]
    assert lines, f"README.md has no table under {CONFIG_HEADING!r}"
    header = _split_row(lines[0])
    assert header == CONFIG_COLUMNS, f"the configuration table's columns are {header}, expected {CONFIG_COLUMNS}"
    assert set(lines[1].replace("|", "").strip()) <= set("-: "), "the second row must be the separator row"
    rows = [_split_row(line) for line in lines[2:]]
    for row in rows:
        assert len(row) == len(CONFIG_COLUMNS), f"malformed configuration row: {row}"
    return [dict(zip(CONFIG_COLUMNS, row, strict=True)) for row in rows]


def _default_text(field: FieldInfo) -> str:
    """How a default is written in the table: booleans as ``true``/``false``, everything else as ``str()``."""
    value = field.get_default(call_default_factory=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _expected_rows() -> dict[str, tuple[str, str]]:
    return {
        f"HERDSEC_{name.upper()}": (_default_text(field), field.description or "")
        for name, field in Settings.model_fields.items()
    }


def test_every_setting_has_a_description() -> None:
    missing = [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]
    assert not missing, f"settings without a description (the README table is built from it): {missing}"


def test_readme_configuration_table_lists_exactly_the_settings() -> None:
    rows = _config_table()
    documented = [_code(row["Variable"]) for row in rows]
    assert len(documented) == len(set(documented)), f"a variable is listed twice: {documented}"
    expected = _expected_rows()
    undocumented = sorted(set(expected) - set(documented))
    unknown = sorted(set(documented) - set(expected))
    assert not undocumented, f"settings missing from the README configuration table: {undocumented}"
    assert not unknown, f"README configuration rows that are not settings: {unknown}"


@pytest.mark.parametrize("variable", sorted(_expected_rows()))
def test_readme_configuration_row_matches_the_setting(variable: str) -> None:
    row = next(row for row in _config_table() if _code(row["Variable"]) == variable)
    default, description = _expected_rows()[variable]
    assert row["Variable"] == f"`{variable}`", "write the variable as inline code"
    assert _code(row["Default"]) == default, f"{variable}: the README default differs from the code"
    assert row["Description"] == description, f"{variable}: copy the field's description verbatim"


def _relative_links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    targets = [match.group(1) for match in LINK.finditer(text)]
    return [t for t in targets if not t.startswith(EXTERNAL) and not t.startswith("#")]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_to_existing_files(path: Path) -> None:
    broken = []
    for target in _relative_links(path):
        file_part = target.split("#", 1)[0].split("?", 1)[0]
        if not (path.parent / file_part).exists():
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)} links to missing files: {broken}"


def test_readme_quick_start_uses_make_demo_and_make_test() -> None:
    text = README.read_text(encoding="utf-8")
    quick_start = _section(text, "## Quick start")
    for command in ("make demo", "make test"):
        assert command in quick_start, f"the README's quick start must show `{command}`"


@cache
def _cli() -> typer.core.TyperGroup:
    from herdsec.cli import main

    if not main.app.registered_commands and not main.app.registered_groups:
        main._register()
    command = typer.main.get_command(main.app)
    assert isinstance(command, typer.core.TyperGroup)
    return command


def _cli_doc() -> str:
    return (DOCS / "cli.md").read_text(encoding="utf-8")


def test_every_top_level_command_is_documented() -> None:
    names = sorted(_cli().commands)
    assert names, "the herdsec CLI registered no commands"
    doc = _cli_doc()
    missing = [name for name in names if not re.search(rf"\bherdsec {re.escape(name)}\b", doc)]
    assert not missing, f"commands missing from docs/cli.md: {missing}"


def test_every_subcommand_is_documented() -> None:
    doc = _cli_doc()
    missing = []
    for name, command in sorted(_cli().commands.items()):
        for sub in sorted(getattr(command, "commands", {})):
            if not re.search(rf"\bherdsec {re.escape(name)} {re.escape(sub)}\b", doc):
                missing.append(f"{name} {sub}")
    assert not missing, f"subcommands missing from docs/cli.md: {missing}"


def test_every_api_endpoint_is_documented() -> None:
    from herdsec.core.db import Database
    from herdsec.core.settings import load_settings
    from herdsec.web.app import create_app

    database = Database.from_url("sqlite://")
    try:
        schema = create_app(load_settings(mode="dev"), database=database).openapi()
    finally:
        database.dispose()
    doc = (DOCS / "api.md").read_text(encoding="utf-8")
    endpoints = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if path.startswith("/api/v1/") or path == "/healthz"
    ]
    assert endpoints, "the app exposes no API endpoints"
    missing = [endpoint for endpoint in endpoints if f"`{endpoint}`" not in doc]
    assert not missing, f"endpoints missing from docs/api.md: {missing}"
