"""Demo members of the hub: organizations of every kind, users and sharing groups (fictional, realistic)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from herdsec.identity import create_group, create_org, create_user, system_principal
from herdsec.identity.auth import group_ids_of
from herdsec.identity.logic import Role
from herdsec.identity.principal import Principal
from herdsec.identity.schemas import OrganizationIn, SharingGroupIn, UserIn, UserPatch
from herdsec.identity.users import update_user

DEMO_PASSWORD = "herdsec-demo-2026"  # noqa: S105 - printed to the demo user on purpose


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    organization: str
    note: str


# (name, kind, sector, province, size, mail domain)
ORGS = [
    (
        "Trung tâm Điều phối An toàn thông tin Quốc gia (demo)",
        "coordinator",
        "Chính phủ",
        "Hà Nội",
        "large",
        "vncc.example",
    ),
    ("Ngân hàng TMCP Sông Hồng", "bank", "Tài chính – Ngân hàng", "Hà Nội", "large", "songhongbank.example"),
    ("Ngân hàng TMCP Phương Nam Số", "bank", "Tài chính – Ngân hàng", "TP. Hồ Chí Minh", "large", "phuongnam.example"),
    (
        "Công ty CP Thương mại điện tử Sen Vàng",
        "enterprise",
        "Thương mại điện tử",
        "TP. Hồ Chí Minh",
        "large",
        "senvang.example",
    ),
    ("Tổng công ty Điện lực Bắc Trung Bộ", "enterprise", "Năng lượng", "Nghệ An", "large", "dienlucbtb.example"),
    ("Công ty TNHH Dệt may Hòa Bình", "sme", "Sản xuất", "Bình Dương", "small", "detmayhoabinh.example"),
    ("Công ty TNHH Phần mềm Đà Nẵng Xanh", "sme", "Công nghệ thông tin", "Đà Nẵng", "micro", "danangxanh.example"),
    ("Nhà thuốc Minh Châu", "sme", "Y tế", "Cần Thơ", "micro", "minhchau.example"),
    (
        "Sở Thông tin và Truyền thông Thừa Thiên Huế (demo)",
        "government",
        "Chính phủ",
        "Thừa Thiên Huế",
        "medium",
        "stttt-hue.example",
    ),
    ("Trường Đại học Kỹ thuật Miền Trung", "university", "Giáo dục", "Đà Nẵng", "large", "dhktmt.example"),
    (
        "Trung tâm Đào tạo An ninh mạng Sài Gòn",
        "training",
        "Giáo dục",
        "TP. Hồ Chí Minh",
        "small",
        "ssa-training.example",
    ),
    ("Công ty CP Giải pháp Bảo mật Lạc Long", "vendor", "An ninh mạng", "Hà Nội", "medium", "laclong.example"),
    ("Phòng thí nghiệm Đánh giá ATTT Hồng Lĩnh", "lab", "Kiểm định", "Hà Tĩnh", "small", "honglinhlab.example"),
]

GROUPS = [
    (
        "Nhóm chia sẻ Tài chính – Ngân hàng",
        1,
        [2, 3],
        "Ngân hàng và thương mại điện tử trao đổi IOC gian lận thanh toán.",
    ),
    ("Liên minh Miền Trung", 6, [4, 8, 9], "Doanh nghiệp, cơ quan và trường đại học miền Trung."),
    ("Hạ tầng trọng yếu", 0, [4, 1], "Điều phối với các đơn vị vận hành hạ tầng thông tin quan trọng."),
]


def seed(session: Session) -> list[DemoLogin]:
    """Create the demo members; returns the logins to show (all with :data:`DEMO_PASSWORD`)."""
    operator = system_principal("demo")
    orgs = []
    logins: list[DemoLogin] = []
    for name, kind, sector, province, size, domain in ORGS:
        org = create_org(
            session,
            operator,
            OrganizationIn(name=name, kind=kind, sector=sector, province=province, size_band=size),
        )
        orgs.append(org)
        for local, role, full in (
            ("admin", Role.ADMIN, "Quản trị"),
            ("analyst", Role.ANALYST, "Phân tích viên"),
            ("viewer", Role.VIEWER, "Người xem"),
        ):
            if role is not Role.ADMIN and kind not in ("coordinator", "bank", "sme"):
                continue
            user = create_user(
                session,
                operator,
                org.id,
                UserIn(
                    email=f"{local}@{domain}", name=f"{full} – {name[:60]}", role=role.value, password=DEMO_PASSWORD
                ),
            )
            if kind == "coordinator" and role is Role.ADMIN:
                update_user(session, operator, user.id, UserPatch(is_coordinator=True))
            if kind == "lab":
                update_user(session, operator, user.id, UserPatch(is_lab_evaluator=True))
    for group_name, owner_index, member_indexes, description in GROUPS:
        owner = orgs[owner_index]
        actor = Principal(
            org_id=owner.id,
            org_name=owner.name,
            role=Role.ADMIN,
            label="demo",
            group_ids=group_ids_of(session, owner.id),
        )
        create_group(
            session,
            actor,
            SharingGroupIn(
                name=group_name, description=description, member_org_ids=[orgs[i].id for i in member_indexes]
            ),
        )
    logins.extend(
        [
            DemoLogin(
                "admin@vncc.example", "admin", ORGS[0][0], "coordinator: registers members, sees the whole audit log"
            ),
            DemoLogin(
                "admin@songhongbank.example", "admin", ORGS[1][0], "bank admin: users, keys, sharing group owner"
            ),
            DemoLogin("analyst@detmayhoabinh.example", "analyst", ORGS[5][0], "SME analyst"),
            DemoLogin("viewer@minhchau.example", "viewer", ORGS[7][0], "SME viewer (read-only)"),
            DemoLogin("admin@honglinhlab.example", "admin", ORGS[12][0], "lab evaluator"),
        ]
    )
    return logins
