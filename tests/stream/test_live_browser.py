"""Done when: two members keep the live view open; one shares, the other sees it within a second, also through a
kill -9 and restart of the server (the browser's EventSource resumes with Last-Event-ID)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser_server import CHROMIUM, CHROMIUM_ARGS
from tests.factories import PASSWORD, Member
from tests.intel_factories import bundle, indicator
from tests.stream.live import ServeProcess, prepare, scratch_url

pytestmark = pytest.mark.browser


def _open_live(page: Page, base: str, member: Member) -> None:
    page.goto(f"{base}/login?next=/live")
    page.fill("input[name=email]", member.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/live")
    expect(page.locator("#live-status")).to_have_text("Connected.", timeout=10_000)


def _share(base: str, member: Member, value: str) -> str:
    ind = indicator(value, name=f"Live {value}")
    response = httpx.post(
        f"{base}/api/v1/intel/bundles?tlp=green",
        json=bundle(ind),
        headers={"Authorization": f"Bearer {member.key}"},
        timeout=30,
    )
    assert response.status_code == 200
    return f"Live {value}"


def test_two_members_see_each_others_shares_live_through_a_restart(tmp_path: Path) -> None:
    with scratch_url("sqlite", tmp_path) as url:
        sharer, watcher = prepare(url, "analyst", "analyst")
        server = ServeProcess(url, extra={"HERDSEC_DEFAULT_LANGUAGE": "en"}).start()
        try:
            _share(server.url, sharer, "203.0.113.200")  # warm up (warninglists)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                pages = []
                for member in (sharer, watcher):
                    page = browser.new_context(locale="en-US").new_page()
                    _open_live(page, server.url, member)
                    pages.append(page)
                name = _share(server.url, sharer, "203.0.113.201")
                for page in pages:
                    expect(page.locator("#live-events")).to_contain_text(name, timeout=1_000)
                server.kill()
                server.start()
                for page in pages:
                    expect(page.locator("#live-status")).to_have_text("Connected.", timeout=30_000)
                name = _share(server.url, sharer, "203.0.113.202")
                shared_at = time.monotonic()
                expect(pages[1].locator("#live-events")).to_contain_text(name, timeout=1_000)
                assert time.monotonic() - shared_at < 1.0
                assert pages[1].locator(".live-item").count() == 2  # nothing twice, nothing lost
                browser.close()
        finally:
            server.stop()
