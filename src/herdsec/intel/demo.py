"""Demo threat intelligence: members share indicators (fictional: .example/.test domains, documentation IP
ranges, made-up hashes), a report, and sightings from other members."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel import attack, service
from herdsec.intel.indicators import object_for
from herdsec.intel.schemas import SightingIn
from herdsec.ioc.normalise import detect


def _fake_hash(seed: str) -> str:
    return hashlib.sha256(f"herdsec-demo-{seed}".encode()).hexdigest()


# (sharing org index in identity.demo.ORGS, tlp, distribution, values, report name)
CAMPAIGNS = [
    (
        1,
        "green",
        "community",
        [
            "vcb-xacthuc-otp.example",
            "hxxps://dangnhap-songhongbank[.]example/otp",
            "nganhang-bao-mat.test",
            "198.51.100.23",
            "198.51.100.24",
            "canhbao@songhong-bank-support.example",
        ],
        "Chiến dịch lừa đảo OTP giả mạo ngân hàng (11/2026)",
    ),
    (
        3,
        "green",
        "connected",
        [
            "hxxp://cdn-senvang-pay[.]example/skimmer.js",
            "checkout-senvang.test",
            _fake_hash("skimmer"),
            "203.0.113.45",
        ],
        "Mã độc đánh cắp thẻ trên trang thanh toán",
    ),
    (
        0,
        "clear",
        "all",
        ["CVE-2026-12345", "CVE-2025-48799", _fake_hash("ransom-loader"), "update-winhelper.example"],
        "Cảnh báo: lỗ hổng bị khai thác và mã độc tống tiền",
    ),
    (6, "amber", "community", ["203.0.113.77", "ssh-bruteforce-c2.test"], "Dò quét SSH nhắm vào máy chủ miền Trung"),
]


TECHNIQUES = {0: ["T1190", "T1486"], 1: ["T1566", "T1566.002"], 3: ["T1185"], 6: ["T1110"]}


def seed(session: Session) -> None:
    attack.load(session)
    orgs = identity.list_orgs(session)
    by_name = {o.name: o for o in orgs}
    from herdsec.identity.demo import GROUPS, ORGS

    now = utcnow()
    for org_index, tlp, distribution, raw_values, title in CAMPAIGNS:
        org = by_name[ORGS[org_index][0]]
        actor = identity.org_principal(session, org.id, "demo")
        values = [v for v in (detect(r) for r in raw_values) if v is not None]
        service.share_values(session, actor, values, tlp=tlp, distribution=distribution, source="demo")
        refs = [o["id"] for v in values if (o := object_for(v, org.uuid, now)) is not None]
        report = {
            "type": "report",
            "spec_version": "2.1",
            "id": f"report--{_uuid(title)}",
            "created": f"{now:%Y-%m-%dT%H:%M:%S}.000Z",
            "modified": f"{now:%Y-%m-%dT%H:%M:%S}.000Z",
            "name": title,
            "published": f"{now:%Y-%m-%dT%H:%M:%S}.000Z",
            "report_types": ["threat-report"],
            "object_refs": refs,
            "object_marking_refs": [TLP2_MARKINGS[Tlp.parse(tlp)]],
            "labels": ["demo", "phishing" if org_index == 1 else "malware"],
            "external_references": [
                {"source_name": "mitre-attack", "external_id": t} for t in TECHNIQUES.get(org_index, [])
            ],
        }
        service.ingest_objects(session, actor, [report], tlp=tlp, distribution=distribution, source="demo")
    # A RED indicator only for the banking sharing group.
    bank = by_name[ORGS[1][0]]
    group = next(
        g
        for g in identity.list_groups(session, identity.org_principal(session, bank.id, "demo"))
        if g.name == GROUPS[0][0]
    )
    red = detect("insider-exfil-sh.test")
    assert red is not None
    service.share_values(
        session,
        identity.org_principal(session, bank.id, "demo"),
        [red],
        tlp="red",
        distribution=f"sharing-group:{group.id}",
        source="demo",
    )
    # Herd immunity: others saw the bank's indicators again.
    for seer_index, value, count, days_ago in (
        (2, "vcb-xacthuc-otp.example", 14, 1),
        (5, "198.51.100.23", 3, 2),
        (7, "vcb-xacthuc-otp.example", 2, 0),
        (4, "203.0.113.45", 5, 3),
        (5, "203.0.113.77", 40, 0),
    ):
        seer = identity.org_principal(session, by_name[ORGS[seer_index][0]].id, "demo")
        service.record_sighting(
            session,
            seer,
            SightingIn(
                value=value,
                count=count,
                first_seen=now - timedelta(days=days_ago + 1),
                last_seen=now - timedelta(days=days_ago),
            ),
        )


def _uuid(text: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"herdsec-demo:{text}"))
