"""The lexical matcher: Vietnamese handling, glossary bridging, evidence, speed."""

from __future__ import annotations

import time

from herdsec.skills.matching import Glossary, analyse, detect_language, fold, shipped_glossary, shipped_matcher, stem


def test_fold_removes_tone_and_vowel_marks() -> None:
    assert fold("Kiểm thử XÂM NHẬP, đánh giá") == "kiem thu xam nhap, danh gia"
    assert fold("mã hóa") == fold("mã hoá") == "ma hoa"  # both tone placements meet


def test_language_detection() -> None:
    assert detect_language("Chuyên viên giám sát an ninh mạng") == "vi"
    assert detect_language("Chuyen vien giam sat an ninh mang va phan tich nhat ky cua he thong") == "vi"
    assert detect_language("Security operations analyst for our bank") == "en"
    assert detect_language("") == "en"


def test_stemming_meets_word_forms() -> None:
    assert stem("testing") == stem("tests") == stem("tested") == "test"
    assert stem("policies") == "policy"
    assert stem("analysis") == stem("analyze") == stem("analyzing")


def test_glossary_prefers_the_longest_term_and_reports_what_it_bridged() -> None:
    g = Glossary([("kiểm thử", "testing"), ("kiểm thử xâm nhập", "penetration testing")])
    text, used = g.bridge(fold("Kiểm thử xâm nhập và kiểm thử"))
    assert "penetration testing" in text and used == [
        ("kiểm thử xâm nhập", "penetration testing"),
        ("kiểm thử", "testing"),
    ]


def test_vietnamese_text_is_bridged_to_english_terms() -> None:
    terms = analyse("ứng cứu sự cố và mã độc", shipped_glossary()).terms
    assert "incident_response" in terms and "malware" in terms
    assert "vi:ung" in terms  # the Vietnamese words stay too, to meet Vietnamese role names


def test_a_vietnamese_posting_lands_on_the_right_role_with_evidence() -> None:
    result = shipped_matcher().match(
        "Kỹ sư kiểm thử xâm nhập",
        "Thực hiện kiểm thử xâm nhập ứng dụng web và hạ tầng mạng, khai thác lỗ hổng, viết báo cáo.",
    )
    assert result.language == "vi"
    best = result.roles[0]
    assert best.code == "PD-WRL-007" and best.score > result.roles[1].score
    assert any("kiểm thử xâm nhập" in p for p in best.phrases)
    assert best.statements and all(s.code[0] in "TKS" for s in best.statements)
    assert any("penetration" in s.text.lower() for s in result.statements)


def test_unaccented_vietnamese_still_matches() -> None:
    result = shipped_matcher().match("Chuyen vien ung cuu su co", "Xu ly su co an toan thong tin va khoi phuc he thong")
    assert result.language == "vi" and result.roles[0].code == "PD-WRL-003"


def test_a_posting_with_no_known_term_still_gets_five_roles() -> None:
    result = shipped_matcher().match("zzz", "qqq xxx")
    assert len(result.roles) == 5 and all(r.score == 0.0 for r in result.roles)
    assert [r.code for r in result.roles] == sorted(r.code for r in result.roles)


def test_matching_takes_a_few_milliseconds_per_posting() -> None:
    m = shipped_matcher()
    text = "Monitor SIEM alerts, triage incidents, analyse network traffic and logs, write detection rules. " * 5
    m.match("SOC analyst", text)
    start = time.perf_counter()
    for _ in range(20):
        m.match("SOC analyst", text)
    per_posting = (time.perf_counter() - start) / 20
    assert per_posting < 0.05, f"{per_posting * 1000:.1f} ms per posting"
