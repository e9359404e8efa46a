"""End-to-end checks in headless Chromium against a real server (uvicorn in a thread, demo data in a SQLite file).

Run with ``make test-browser`` or ``pytest -m browser``. Debian's Chromium is used; Playwright downloads nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, ViewportSize, expect, sync_playwright

from herdsec.core.i18n import translate
from tests.browser_server import (
    BANK_ADMIN,
    BANK_NAME,
    CHROMIUM,
    CHROMIUM_ARGS,
    COORDINATOR,
    DEMO_PASSWORD,
    running_demo_hub,
)

pytestmark = pytest.mark.browser

TIMEOUT_MS = 5_000
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

# Problems a page has that assistive technology users would hit; returns one line per problem.
A11Y_SCRIPT = """
() => {
  const problems = [];
  const lang = document.documentElement.getAttribute("lang");
  if (!lang || !lang.trim()) problems.push("<html> has no lang attribute");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) problems.push(`${h1} <h1> elements (want exactly one)`);
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`<img src=${img.getAttribute("src")}> has no alt`);
  }
  const labelText = (label) => {
    const copy = label.cloneNode(true);
    copy.querySelectorAll("input, select, textarea, button").forEach((c) => c.remove());
    return copy.textContent.trim();
  };
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const byLabel = Array.from(el.labels || []).some((l) => labelText(l) !== "");
    const byAria = (el.getAttribute("aria-label") || "").trim() !== "" || el.hasAttribute("aria-labelledby");
    if (!byLabel && !byAria) problems.push(`<${el.tagName.toLowerCase()} name=${el.name}> has no label`);
  }
  for (const b of document.querySelectorAll("button")) {
    if (!b.textContent.trim() && !(b.getAttribute("aria-label") || "").trim()) problems.push("a <button> has no name");
  }
  return problems;
}
"""
NO_HORIZONTAL_SCROLL = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium) to enable the browser tests")
    with running_demo_hub(tmp_path_factory.mktemp("browser")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _context(browser: Browser, base_url: str, viewport: ViewportSize = DESKTOP) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def desktop(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = _context(browser, base_url)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = _context(browser, base_url, PHONE)
    try:
        yield context
    finally:
        context.close()


def _fits(locator: Locator, width: int) -> bool:
    """Is the element on screen horizontally (not cut off, not pushed out of a narrow viewport)?"""
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form[action='/login'] button[type=submit]").click()
    expect(page.locator("header .who")).to_be_visible()


def choose_language(page: Page, code: str) -> None:
    with page.expect_navigation():
        page.locator(f"header form.lang button[name=lang][value={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def test_api_key_works_and_language_is_saved_on_the_user(
    browser: Browser, base_url: str, desktop: BrowserContext
) -> None:
    page = desktop.new_page()
    log_in(page, BANK_ADMIN)
    choose_language(page, "en")  # a known starting point, whatever an earlier test chose

    page.locator("header nav a[href='/keys']").click()
    page.wait_for_url("**/keys")
    form = page.locator("main form[action='/keys']")
    form.locator("input[name=label]").fill("firewall (browser test)")
    form.locator("select[name=role]").select_option("viewer")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("hsk_"), key
    expect(page.locator("main table")).to_contain_text("firewall (browser test)")

    answer = httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    me = answer.json()
    assert me["organization"]["name"] == BANK_NAME
    assert me["role"] == "viewer"
    assert key.startswith(f"hsk_{me['api_key_prefix']}_")

    # The header switch turns the page Vietnamese; the label comes from the shipped catalogue.
    vi_keys = translate("API keys", "vi")
    assert vi_keys != "API keys", "the Vietnamese catalogue (locale/vi/LC_MESSAGES/messages.po) lacks 'API keys'"
    choose_language(page, "vi")
    expect(page.locator("header nav a[href='/keys']")).to_have_text(vi_keys)
    expect(page.locator("header form.lang button[value=vi]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("main h1")).to_have_text(vi_keys)

    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("header nav a[href='/keys']")).to_have_text(vi_keys)

    # A new browser (no cookies, English Accept-Language) gets Vietnamese once this user logs in: saved on the user.
    fresh = _context(browser, base_url)
    try:
        other = fresh.new_page()
        other.goto("/login")
        expect(other.locator("html")).to_have_attribute("lang", "en")
        log_in(other, BANK_ADMIN)
        expect(other.locator("html")).to_have_attribute("lang", "vi")
        other.goto("/keys")
        expect(other.locator("header nav a[href='/keys']")).to_have_text(vi_keys)
    finally:
        fresh.close()


def test_organization_name_is_escaped(desktop: BrowserContext) -> None:
    name = "<img src=x onerror=alert(1)>Công ty XSS"
    page = desktop.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in(page, COORDINATOR)
    page.goto("/orgs")
    form = page.locator("main form[action='/orgs'][method=post]")
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=kind]").select_option("sme")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.wait_for_url("**/orgs/*")

    expect(page.locator("main h1")).to_have_text(name)
    assert page.locator("main img").count() == 0
    assert name in page.title()

    page.goto("/orgs")
    expect(page.locator("main table").get_by_role("link", name=name, exact=True)).to_be_visible()
    assert page.locator("main img").count() == 0
    assert dialogs == []


def test_phone_layout_has_no_horizontal_scroll(phone: BrowserContext) -> None:
    page = phone.new_page()
    log_in(page, BANK_ADMIN)
    page.goto("/")
    assert page.evaluate(NO_HORIZONTAL_SCROLL), "the home page scrolls sideways on a phone"

    width = PHONE["width"]
    links = page.locator("header nav a")
    assert links.count() >= 3
    for index in range(links.count()):
        link = links.nth(index)
        expect(link).to_be_visible()
        assert _fits(link, width), link.get_attribute("href")
    for control in ("header form.lang button[value=vi]", "header form.lang button[value=en]", "header .who"):
        assert _fits(page.locator(control), width), control

    page.locator("header nav a[href='/keys']").click()
    page.wait_for_url("**/keys")
    expect(page.locator("main h1")).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_SCROLL), "/keys scrolls sideways on a phone"


def test_pages_pass_basic_accessibility_checks(desktop: BrowserContext) -> None:
    page = desktop.new_page()
    page.goto("/login")
    problems = {"/login": page.evaluate(A11Y_SCRIPT)}

    log_in(page, BANK_ADMIN)
    for path in ("/", "/account", "/orgs", "/keys", "/groups", "/audit"):
        page.goto(path)
        problems[path] = page.evaluate(A11Y_SCRIPT)
    page.goto("/account")
    page.locator("main a[href^='/orgs/']").first.click()
    page.wait_for_url("**/orgs/*")
    problems[page.url] = page.evaluate(A11Y_SCRIPT)
    page.goto("/groups")
    page.locator("main table a[href^='/groups/']").first.click()
    page.wait_for_url("**/groups/*")
    problems[page.url] = page.evaluate(A11Y_SCRIPT)

    assert {path: found for path, found in problems.items() if found} == {}


SME_ANALYST = "analyst@detmayhoabinh.example"


@pytest.mark.browser
def test_herd_immunity_share_find_and_report_back(browser: Browser, base_url: str) -> None:
    """A bank pastes an alert and shares its indicators; an SME finds one by value and reports it seen; the bank
    sees who saw it."""
    bank = _context(browser, base_url)
    sme = _context(browser, base_url)
    try:
        page = bank.new_page()
        log_in(page, BANK_ADMIN)
        page.goto("/intel/submit")
        page.locator("textarea[name=text]").fill(
            "Cảnh báo: trang giả mạo hxxps://otp-giamao-browser[.]example/login đang thu thập mã OTP."
        )
        with page.expect_navigation():
            page.locator("form[action='/intel/submit/freetext'] button[type=submit]").click()
        review = page.locator("form[action='/intel/submit/values']").first
        expect(
            review.locator("input[name=value][value='url|https://otp-giamao-browser.example/login']")
        ).to_be_checked()
        review.locator("select[name=tlp]").select_option("green")
        with page.expect_navigation():
            review.locator("button[type=submit]").click()
        # (the bank admin may have chosen Vietnamese in an earlier test: check the numbers, not the words)
        expect(page.locator("main [role=status]").first).to_contain_text("1")

        other = sme.new_page()
        log_in(other, SME_ANALYST)
        other.goto("/intel")
        other.locator("main input[name=value]").fill("hxxps://otp-giamao-browser[.]example/login")
        with other.expect_navigation():
            other.locator("main form[role=search] button[type=submit]").click()
        expect(other.locator("main table")).to_contain_text(BANK_NAME)
        with other.expect_navigation():
            other.locator("main table a").first.click()
        other.locator("input[name=count]").fill("3")
        with other.expect_navigation():
            other.locator("form[action$='/sightings'] button[type=submit]").click()
        expect(other.locator("main")).to_contain_text("3")

        page.goto(other.url.split(base_url, 1)[-1])
        expect(page.locator("main")).to_contain_text("Công ty TNHH Dệt may Hòa Bình")  # the creator sees who saw it
    finally:
        bank.close()
        sme.close()
