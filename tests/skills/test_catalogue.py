"""The shipped catalogue: NICE v2.1.0 counts and version, the 2017 ids, the hub's translations and data files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from herdsec.core.errors import InvalidInput
from herdsec.skills.catalogue import from_cprt, legacy_from_2017, package_data, shipped, to_compact
from tests.conftest import SHARED

CPRT = SHARED / "data" / "nist-nice" / "cprt" / "cprt_SP_800_181_2_1_0.json"
ROLES_2017 = SHARED / "data" / "nist-nice" / "sp800-181-2017" / "work_roles.json"
RELATIONS = {"equivalent", "broader", "narrower", "related"}


def test_shipped_catalogue_has_the_v2_1_0_counts_and_version() -> None:
    c = shipped()
    assert c.version == "2.1.0"
    assert c.counts() == {
        "categories": 5,
        "competency_areas": 11,
        "work_roles": 41,
        "tasks": 946,
        "knowledge": 662,
        "skills": 540,
    }
    codes = {s.code for s in c.statements}
    assert all(set(r.statements) <= codes for r in c.roles)
    assert sum(len(r.statements) for r in c.roles) == 5334
    assert {r.category for r in c.roles} == {"OG", "DD", "IO", "PD", "IN"}


@pytest.mark.skipif(not CPRT.exists(), reason="../shared/data/nist-nice is not present")
def test_importing_nists_cprt_json_gives_exactly_the_shipped_copy() -> None:
    parsed = from_cprt(json.loads(CPRT.read_text(encoding="utf-8")), source="NIST CPRT export SP_800_181_2_1_0")
    assert to_compact(parsed) == to_compact(shipped())
    legacy = legacy_from_2017(json.loads(ROLES_2017.read_text(encoding="utf-8")), parsed)
    assert [(r.code, r.successors) for r in legacy] == [(r.code, r.successors) for r in shipped().legacy]


def test_2017_ids_map_through_their_opm_code() -> None:
    legacy = {r.code: r for r in shipped().legacy}
    assert len(legacy) == 52
    assert legacy["SP-RSK-002"].successors == ("OG-WRL-012",)  # Security Control Assessor, OPM 612
    assert legacy["PR-CIR-001"].successors == ("PD-WRL-003",)  # Cyber Defense Incident Responder, OPM 531
    assert legacy["CO-OPS-001"].successors == ()  # a retired Collect-and-Operate role


def test_a_malformed_cprt_export_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="not a CPRT export"):
        from_cprt({"elements": []})
    broken = {
        "response": {
            "elements": {
                "documents": [{"doc_identifier": "X", "version": "9"}],
                "elements": [{"element_type": "work_role", "element_identifier": "A", "title": "", "text": ""}],
                "relationships": [{"source_element_identifier": "A", "dest_element_identifier": "B"}],
            }
        }
    }
    with pytest.raises(InvalidInput, match="unknown element: A -> B"):
        from_cprt(broken)


def test_every_role_category_and_competency_area_has_a_vietnamese_name() -> None:
    names = package_data("vi-names.json")
    c = shipped()
    assert "HerdSec" in names["translation"]
    assert set(names["work_roles"]) == {r.code for r in c.roles}
    assert set(names["categories"]) == {g.code for g in c.groups if g.kind == "category"}
    assert set(names["competency_areas"]) == {g.code for g in c.groups if g.kind == "competency_area"}
    assert set(names["work_role_descriptions"]) == set(names["work_roles"])
    assert set(names["category_descriptions"]) == set(names["categories"])
    parts = ("work_roles", "categories", "competency_areas", "work_role_descriptions", "category_descriptions")
    assert all(v.strip() for part in parts for v in names[part].values())


def test_twelve_ecsf_profiles_in_both_languages() -> None:
    profiles = package_data("ecsf.json")["profiles"]
    assert len(profiles) == 12 and len({p["code"] for p in profiles}) == 12
    for p in profiles:
        for key in ("title", "summary", "mission"):
            assert p[key].strip() and p[f"{key}_vi"].strip() and p[key] != p[f"{key}_vi"]
        assert len(p["tasks"]) == len(p["tasks_vi"]) >= 3
        assert len(p["deliverables"]) == len(p["deliverables_vi"]) >= 2


def test_crosswalk_is_typed_with_a_rationale_and_names_known_roles() -> None:
    links = package_data("crosswalk.json")["links"]
    nice = {r.code for r in shipped().roles}
    ecsf = {p["code"] for p in package_data("ecsf.json")["profiles"]}
    assert {e for e, *_ in links} == ecsf  # every ECSF profile has at least one NICE counterpart
    for e, n, relation, why_en, why_vi in links:
        assert e in ecsf and n in nice and relation in RELATIONS
        assert 10 < len(why_en) < 200 and 10 < len(why_vi) < 200
    assert {r for _e, _n, r, *_ in links} == RELATIONS
    assert len({(e, n) for e, n, *_ in links}) == len(links)


def test_glossary_has_at_least_150_distinct_vietnamese_terms_with_diacritics() -> None:
    terms = package_data("glossary.json")["terms"]
    assert len({vi for vi, _en in terms}) == len(terms) >= 150
    assert sum(1 for vi, _en in terms if vi.isascii()) < 5  # written with proper diacritics


def test_aliases_name_only_known_roles() -> None:
    aliases = package_data("aliases.json")["roles"]
    assert set(aliases) == {r.code for r in shipped().roles}


def test_notice_attributes_the_nice_data() -> None:
    notice = (Path(__file__).resolve().parents[2] / "NOTICE").read_text(encoding="utf-8")
    assert "SP 800-181" in notice and "ECSF" in notice
