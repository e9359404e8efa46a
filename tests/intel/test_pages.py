"""The intel pages in-process: dashboard, lookup, detail with correlations and sightings, the share forms."""

from __future__ import annotations

import io
import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_member
from tests.intel_factories import bundle, indicator, share
from tests.test_pages import csrf, log_in


def test_dashboard_lookup_and_detail(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst", name="Ngân hàng Chia sẻ"), make_member(session, "analyst")
    first = indicator("198.51.100.200", name="<script>alert(1)</script> C2")
    second = indicator(pattern="[ipv4-addr:value = '198.51.100.200'] OR [domain-name:value = 'c2.example']")
    share(session, a.principal, first, second, tlp="green")
    log_in(client, b, "/intel")
    board = client.get("/intel")
    assert board.status_code == 200 and "<svg" in board.text and "Ngân hàng Chia sẻ" in board.text
    assert "<script>alert(1)</script>" not in board.text and "&lt;script&gt;" in board.text
    found = client.get("/intel/lookup", params={"value": "198.51.100[.]200"})
    assert found.status_code == 200 and found.text.count("/intel/objects/") == 2
    detail = client.get(f"/intel/objects/{first['id']}")
    assert detail.status_code == 200 and second["id"] in detail.text  # correlated through the shared value
    assert 'class="chart-line"' in detail.text  # the score over time
    token = csrf(detail.text)
    sent = client.post(
        f"/intel/objects/{first['id']}/sightings", data={"kind": "sighting", "count": "4", "csrf_token": token}
    )
    assert sent.status_code == 200 and "4" in sent.text
    assert client.get("/intel/lookup", params={"value": "not a value"}).status_code == 422


def test_freetext_review_then_share(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    log_in(client, a, "/intel/submit")
    token = csrf(client.get("/intel/submit").text)
    text = "Kính gửi anh chị, máy chủ C2 tại hxxp://mal-update[.]example/gate.php và 45.77.12[.]9; DNS 8.8.8.8."
    review = client.post("/intel/submit/freetext", data={"text": text, "csrf_token": token})
    assert review.status_code == 200
    boxes = re.findall(r'name="value" value="([^"]+)"( checked)?', review.text)
    assert ("ipv4|45.77.12.9", " checked") in boxes
    assert any(v == "ipv4|8.8.8.8" and not checked for v, checked in boxes)  # warninglisted: unchecked
    chosen = [v for v, checked in boxes if checked]
    shared = client.post(
        "/intel/submit/values", data={"value": chosen, "tlp": "green", "distribution": "community", "csrf_token": token}
    )
    assert shared.status_code == 200 and "refused" in shared.text
    from herdsec.intel import service

    assert service.lookup(session, b.principal, "45.77.12.9").matches
    again = client.post("/intel/submit/values", data={"value": chosen, "csrf_token": token})
    assert again.status_code == 200  # idempotent: derived ids


def test_single_value_and_bundle_upload(client: TestClient, session: Session) -> None:
    a = make_member(session, "analyst")
    log_in(client, a, "/intel/submit")
    token = csrf(client.get("/intel/submit").text)
    one = client.post(
        "/intel/submit/values",
        data={"single": "evil-login[.]example", "tlp": "amber", "distribution": "organization", "csrf_token": token},
    )
    assert one.status_code == 200
    bad = client.post("/intel/submit/values", data={"single": "just words", "csrf_token": token})
    assert bad.status_code == 422
    doc = json.dumps(bundle(indicator("198.51.100.201"))).encode()
    up = client.post(
        "/intel/submit/bundle",
        data={"csrf_token": token, "tlp": "green"},
        files={"bundle": ("b.json", io.BytesIO(doc), "application/json")},
    )
    assert up.status_code == 200 and "1 stored" in up.text
    broken = client.post(
        "/intel/submit/bundle",
        data={"csrf_token": token},
        files={"bundle": ("b.json", io.BytesIO(b'{"type": "bundle", "objects": [}'), "text/plain")},
    )
    assert broken.status_code == 422 and "line 1" in broken.text


def test_a_report_page_lists_its_visible_objects(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "analyst")
    shown, hidden = indicator("198.51.100.210"), indicator("198.51.100.211")
    share(session, a.principal, shown, tlp="green")
    share(session, a.principal, hidden, distribution="organization")
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--8c0d5b8e-3b4e-4f7a-9d2e-0c6f1a2b3c4d",
        "created": shown["created"],
        "modified": shown["created"],
        "name": "Báo cáo chiến dịch",
        "published": shown["created"],
        "object_refs": [shown["id"], hidden["id"]],
    }
    share(session, a.principal, report, tlp="green")
    log_in(client, b, "/intel")
    page = client.get(f"/intel/objects/{report['id']}").text
    # the reader gets a link to what it may see; ids in the report's own JSON are the report's content
    assert f'href="/intel/objects/{shown["id"]}"' in page
    assert f'href="/intel/objects/{hidden["id"]}"' not in page
