"""Demo skills data: the catalogue, fictional job postings from members, and two training programmes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import NotFound
from herdsec.skills import market, programmes, service
from herdsec.skills.catalogue import package_data
from herdsec.skills.schemas import CourseIn, PostingIn, ProgrammeIn

# Which demo member posts the jobs of a sector (names from identity.demo.ORGS).
POSTER_BY_SECTOR = {
    "bank": "Ngân hàng TMCP Sông Hồng",
    "telco": "Công ty CP Giải pháp Bảo mật Lạc Long",
    "gov": "Sở Thông tin và Truyền thông Thừa Thiên Huế (demo)",
    "other": "Công ty CP Thương mại điện tử Sen Vàng",
}

PROGRAMMES = [
    (
        "Trường Đại học Kỹ thuật Miền Trung",
        ProgrammeIn(
            name="Kỹ sư An toàn thông tin (chính quy)",
            province="Đà Nẵng",
            graduates_per_year=120,
            courses=[
                CourseIn(
                    code="ATTT201",
                    title="Mạng máy tính",
                    outcomes=[
                        "Cấu hình bộ định tuyến, bộ chuyển mạch và giao thức định tuyến",
                        "Phân tích lưu lượng mạng và gói tin",
                    ],
                ),
                CourseIn(
                    code="ATTT301",
                    title="An ninh mạng",
                    outcomes=[
                        "Cấu hình tường lửa và hệ thống phát hiện xâm nhập",
                        "Giám sát an ninh và phân tích nhật ký hệ thống",
                    ],
                ),
                CourseIn(
                    code="ATTT310",
                    title="Mật mã học ứng dụng",
                    outcomes=[
                        "Áp dụng mã hóa, chữ ký số và hạ tầng khóa công khai",
                    ],
                ),
                CourseIn(
                    code="ATTT320",
                    title="Lập trình an toàn",
                    outcomes=[
                        "Viết mã nguồn an toàn theo OWASP Top 10 và rà soát mã nguồn",
                        "Áp dụng vòng đời phát triển phần mềm an toàn",
                    ],
                ),
                CourseIn(
                    code="ATTT401",
                    title="Kiểm thử xâm nhập",
                    outcomes=[
                        "Thực hiện kiểm thử xâm nhập ứng dụng web và khai thác lỗ hổng",
                        "Viết báo cáo đánh giá lỗ hổng",
                    ],
                ),
            ],
        ),
    ),
    (
        "Trung tâm Đào tạo An ninh mạng Sài Gòn",
        ProgrammeIn(
            name="SOC Analyst Bootcamp",
            province="TP. Hồ Chí Minh",
            graduates_per_year=60,
            courses=[
                CourseIn(
                    code="SOC1",
                    title="Security monitoring with SIEM",
                    outcomes=[
                        "Monitor security alerts and analyse logs in a SIEM",
                        "Identify intrusions and anomalous network activity",
                    ],
                ),
                CourseIn(
                    code="SOC2",
                    title="Incident response",
                    outcomes=[
                        "Triage, contain and recover from security incidents",
                        "Write incident reports",
                    ],
                ),
                CourseIn(
                    code="SOC3",
                    title="Threat intelligence basics",
                    outcomes=[
                        "Map threat actor techniques to MITRE ATT&CK and use indicators of compromise",
                    ],
                ),
            ],
        ),
    ),
]


def _sector_group(sector: str | None) -> str:
    s = (sector or "").lower()
    if "bank" in s or "ngân hàng" in s:
        return "bank"
    if any(k in s for k in ("telecom", "viễn thông", "vendor", "bảo mật", "technology", "công nghệ")):
        return "telco"
    if "government" in s or "nhà nước" in s:
        return "gov"
    return "other"


def _member(session: Session, name: str) -> identity.Principal:
    return identity.org_principal(session, identity.find_org(session, name).id, "skills demo")


def seed(session: Session) -> None:
    """Load the catalogue; store the demo postings and programmes (needs the identity demo's members)."""
    service.load(session)
    try:
        posters = {k: _member(session, v) for k, v in POSTER_BY_SECTOR.items()}
    except NotFound:
        return  # no demo members: the catalogue alone
    batches: dict[str, list[PostingIn]] = {}
    for row in package_data("demo-postings.json")["postings"]:
        batches.setdefault(_sector_group(row.get("sector")), []).append(PostingIn.model_validate(row))
    for group, items in batches.items():
        market.store_postings(session, posters[group], items)
    for org_name, programme in PROGRAMMES:
        programmes.create_programme(session, _member(session, org_name), programme)


__all__ = ["seed"]
