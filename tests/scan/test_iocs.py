"""Indicator files in: plain lists (defanged, typed by detection), CSV, STIX 2.1 bundles, MISP events; what is not
an indicator is reported with its place; an empty set is a clear error."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herdsec.core.errors import InvalidInput
from herdsec.ioc.normalise import detect
from herdsec.ioc.types import IocType
from herdsec.scan import service
from herdsec.scan.iocs import Loaded, canonical_address, load_file


def _load(path: Path) -> tuple[set[tuple[str, str]], list[str]]:
    loaded = Loaded()
    load_file(path, loaded)
    values = {(value.type.value, value.value) for value in loaded.values}
    values |= {(kind.value, text) for kind, text in loaded.canonical}
    return values, loaded.problems


def test_plain_list_refangs_and_detects(tmp_path: Path) -> None:
    path = tmp_path / "iocs.txt"
    path.write_text(
        "# from the bank\nhxxp://evil[.]example/a\nEVIL(.)example\n198.51.100.7\nbob[@]evil.example\n"
        "D41D8CD98F00B204E9800998ECF8427E\n10.0.0.0/8\n\nnot an indicator\nv1.2.3\n",
        encoding="utf-8",
    )
    values, problems = _load(path)
    assert values == {
        ("url", "http://evil.example/a"),
        ("domain", "evil.example"),
        ("ipv4", "198.51.100.7"),
        ("email", "bob@evil.example"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("cidr", "10.0.0.0/8"),
    }
    assert problems == [f"{path}:9: not an indicator: not an indicator", f"{path}:10: not an indicator: v1.2.3"]


def test_csv_with_type_column(tmp_path: Path) -> None:
    path = tmp_path / "iocs.csv"
    path.write_text("type,value,comment\nip-dst,203.0.113.5,c2\ndomain,bad[.]example,x\nsha256,zz,broken\n")
    values, problems = _load(path)
    assert values == {("ipv4", "203.0.113.5"), ("domain", "bad.example")}
    assert len(problems) == 1 and problems[0].startswith(f"{path}:4: expected 64 hexadecimal digits")


def test_stix_bundle_indicators_and_observables(tmp_path: Path) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--6d1f7e47-2f4b-4c55-9d0a-111111111111",
        "objects": [
            {
                "type": "indicator",
                "id": "indicator--1",
                "pattern_type": "stix",
                "pattern": "[domain-name:value = 'c2.example'] OR [ipv4-addr:value = '198.51.100.9']",
            },
            {
                "type": "indicator",
                "id": "indicator--2",
                "pattern_type": "stix",
                "revoked": True,
                "pattern": "[domain-name:value = 'revoked.example']",
            },
            {
                "type": "indicator",
                "id": "indicator--3",
                "pattern_type": "stix",
                "valid_until": "2001-01-01T00:00:00Z",
                "pattern": "[domain-name:value = 'expired.example']",
            },
            {"type": "indicator", "id": "indicator--4", "pattern_type": "stix", "pattern": "[broken"},
            {"type": "url", "id": "url--1", "value": "https://phish.example/login"},
            {"type": "file", "id": "file--1", "hashes": {"SHA-256": "A" * 64}},
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    values, problems = _load(path)
    assert values == {
        ("domain", "c2.example"),
        ("ipv4", "198.51.100.9"),
        ("url", "https://phish.example/login"),
        ("sha256", "a" * 64),
    }
    assert len(problems) == 1 and "objects[3]" in problems[0] and "invalid STIX pattern" in problems[0]


def test_misp_event_attributes_objects_and_composites(tmp_path: Path) -> None:
    event = {
        "Event": {
            "info": "Phishing campaign",
            "Attribute": [
                {"type": "ip-dst", "value": "203.0.113.77", "uuid": "a1"},
                {"type": "domain|ip", "value": "mal.example|203.0.113.78", "uuid": "a2"},
                {"type": "ip-src", "value": "2001:db8::5", "uuid": "a3"},
                {"type": "comment", "value": "hello", "uuid": "a4"},
            ],
            "Object": [{"name": "file", "Attribute": [{"type": "md5", "value": "0" * 32, "uuid": "a5"}]}],
        }
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    values, problems = _load(path)
    assert values == {
        ("ipv4", "203.0.113.77"),
        ("domain", "mal.example"),
        ("ipv4", "203.0.113.78"),
        ("ipv6", "2001:db8::5"),
        ("md5", "0" * 32),
    }
    assert problems == []


def test_json_that_is_neither_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(InvalidInput, match=r"neither a STIX 2\.1 bundle nor a MISP event"):
        load_file(path, Loaded())


def test_an_empty_indicator_set_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("# nothing yet\n\nC:\\not\\a\\value\n")
    with pytest.raises(InvalidInput, match="no indicator to scan for"):
        service.load([path], None)


def test_types_the_scanner_does_not_match_are_counted_as_skipped(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("type,value\nmutex,Global\\evil\ndomain,ok.example\nfilename,evil.exe\n")
    loaded = service.load([path], None)
    assert loaded.matcher.count == 1 and loaded.skipped_types == 2
    assert IocType.DOMAIN.value == "domain"


_V6_GROUPS = st.lists(st.sampled_from([0, 0, 0, 1, 0xDB8, 0x2001, 0xFFFF, 0xABCD, 0x10]), min_size=8, max_size=8)


@settings(max_examples=500, deadline=None)
@given(_V6_GROUPS, st.sampled_from(["compressed", "exploded", "upper"]))
def test_the_fast_path_for_ipv6_gives_what_detect_gives(groups: list[int], spelling: str) -> None:
    address = ipaddress.IPv6Address(sum(group << (16 * (7 - i)) for i, group in enumerate(groups)))
    text = {"compressed": address.compressed, "exploded": address.exploded, "upper": address.compressed.upper()}[
        spelling
    ]
    fast = canonical_address(text)
    slow = detect(text)
    if fast is not None:
        assert slow is not None and (fast.type, fast.value, fast.problem) == (slow.type, slow.value, slow.problem)
    elif spelling == "compressed" and address.ipv4_mapped is None and int(address) >> 32:  # not ::a.b.c.d
        raise AssertionError(f"a canonical address took the slow path: {text}")


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 33), st.booleans())
def test_the_fast_path_for_networks_gives_what_detect_gives(number: int, length: int, clear: bool) -> None:
    if clear and length <= 32:
        number &= ~((1 << (32 - length)) - 1) & 0xFFFFFFFF
    text = f"{ipaddress.IPv4Address(number)}/{length}"
    fast = canonical_address(text)
    slow = detect(text)
    if fast is not None:
        assert slow is not None and (fast.type, fast.value, fast.problem) == (slow.type, slow.value, slow.problem)
    else:
        assert not (clear and 1 <= length <= 31), f"a canonical network took the slow path: {text}"
