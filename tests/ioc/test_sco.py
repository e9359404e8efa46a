"""Values from STIX 2.1 cyber-observable objects, pattern object paths and vulnerability objects."""

from __future__ import annotations

from typing import Any

import pytest

from herdsec.ioc.sco import hash_type, parse_path, values_from_path, values_from_sco, values_from_sdo
from herdsec.ioc.types import IocType, Value

T = IocType
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def pairs(values: list[Value]) -> list[tuple[IocType, str, bool]]:
    return [(value.type, value.value, value.problem is None) for value in values]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"type": "ipv4-addr", "value": "198.51.100.3"}, [(T.IPV4, "198.51.100.3", True)]),
        ({"type": "ipv4-addr", "value": "198.51.100.0/24"}, [(T.CIDR, "198.51.100.0/24", True)]),
        ({"type": "ipv4-addr", "value": "198.51.100.7/32"}, [(T.IPV4, "198.51.100.7", True)]),
        ({"type": "ipv6-addr", "value": "2001:0DB8::1"}, [(T.IPV6, "2001:db8::1", True)]),
        ({"type": "ipv6-addr", "value": "2001:db8::/96"}, [(T.CIDR, "2001:db8::/96", True)]),
        ({"type": "domain-name", "value": "BỘCÔNGAN.vn"}, [(T.DOMAIN, "xn--bcngan-jxa6332d.vn", True)]),
        ({"type": "domain-name", "value": "evil .com"}, [(T.DOMAIN, "evil .com", False)]),
        ({"type": "url", "value": "HTTP://evil.com:80"}, [(T.URL, "http://evil.com/", True)]),
        ({"type": "email-addr", "value": "Bad@Evil.com", "display_name": "x"}, [(T.EMAIL, "bad@evil.com", True)]),
        ({"type": "mutex", "name": "Global\\evil"}, [(T.MUTEX, "Global\\evil", True)]),
        ({"type": "windows-registry-key", "key": "hklm\\Run"}, [(T.REGKEY, "HKEY_LOCAL_MACHINE\\Run", True)]),
        ({"type": "x-ja3", "value": "E" * 32}, [(T.JA3, "e" * 32, True)]),
        ({"type": "software", "name": "evil.exe"}, []),
        ({"type": "process", "pid": 4}, []),
        ({"type": "domain-name"}, []),
        ({"value": "1.2.3.4"}, []),
        ({"type": "ipv4-addr", "value": 16909060}, [(T.IPV4, "16909060", False)]),
    ],
)
def test_simple_objects(obj: dict[str, Any], expected: list[tuple[IocType, str, bool]]) -> None:
    assert pairs(values_from_sco(obj)) == expected


def test_file_hashes_in_every_spelling_and_the_name() -> None:
    obj = {
        "type": "file",
        "hashes": {
            "MD5": "D41D8CD98F00B204E9800998ECF8427E",
            "SHA-1": "a" * 40,
            "SHA256": SHA256.upper(),
            "sha-512": "b" * 128,
            "SHA3-256": "c" * 64,
            "SSDEEP": "3:a:b",
            "TLSH": "T1" + "0" * 70,
        },
        "name": "invoice.exe",
        "size": 42,
    }
    assert pairs(values_from_sco(obj)) == [
        (T.MD5, "d41d8cd98f00b204e9800998ecf8427e", True),
        (T.SHA1, "a" * 40, True),
        (T.SHA256, SHA256, True),
        (T.SHA512, "b" * 128, True),
        (T.FILENAME, "invoice.exe", True),
    ]


def test_certificate_and_artifact_hashes() -> None:
    certificate = {"type": "x509-certificate", "hashes": {"SHA-1": "A" * 40}, "serial_number": "01"}
    artifact = {"type": "artifact", "hashes": {"SHA-256": SHA256}, "payload_bin": "AAAA"}
    assert pairs(values_from_sco(certificate)) == [(T.SHA1, "a" * 40, True)]
    assert pairs(values_from_sco(artifact)) == [(T.SHA256, SHA256, True)]


def test_a_bad_hash_is_flagged_not_fatal() -> None:
    assert pairs(values_from_sco({"type": "file", "hashes": {"MD5": "not-a-hash"}})) == [(T.MD5, "not-a-hash", False)]
    assert values_from_sco({"type": "file", "hashes": "nonsense"}) == []


def test_network_traffic_user_agent_and_ja3() -> None:
    obj = {
        "type": "network-traffic",
        "src_ref": "ipv4-addr--1",
        "protocols": ["tcp", "http"],
        "extensions": {
            "http-request-ext": {
                "request_method": "get",
                "request_value": "/",
                "request_header": {"Host": "evil.com", "user-agent": " EvilBot/1.0 "},
            },
            "x-tls-ext": {"JA3": "E7ECA2BAF4458D095B7F45DA28C16C34"},
        },
    }
    assert pairs(values_from_sco(obj)) == [
        (T.USER_AGENT, "EvilBot/1.0", True),
        (T.JA3, "e7eca2baf4458d095b7f45da28c16c34", True),
    ]
    assert values_from_sco({"type": "network-traffic", "protocols": ["tcp"]}) == []


@pytest.mark.parametrize(
    ("path", "literal", "expected"),
    [
        ("ipv4-addr:value", "1.2.3.4", (T.IPV4, "1.2.3.4")),
        ("ipv4-addr:value", "10.1.0.0/16", (T.CIDR, "10.1.0.0/16")),
        ("ipv6-addr:value", "2001:DB8::1", (T.IPV6, "2001:db8::1")),
        ("domain-name:value", "Evil.COM.", (T.DOMAIN, "evil.com")),
        ("url:value", "http://evil.com", (T.URL, "http://evil.com/")),
        ("email-addr:value", "X@Evil.com", (T.EMAIL, "x@evil.com")),
        ("email-message:from_ref.value", "x@evil.com", (T.EMAIL, "x@evil.com")),
        ("email-message:sender_ref.value", "x@evil.com", (T.EMAIL, "x@evil.com")),
        ("email-message:to_refs[*].value", "y@evil.com", (T.EMAIL, "y@evil.com")),
        ("email-message:cc_refs[0].value", "y@evil.com", (T.EMAIL, "y@evil.com")),
        ("file:hashes.'SHA-256'", SHA256.upper(), (T.SHA256, SHA256)),
        ("file:hashes.'SHA256'", SHA256, (T.SHA256, SHA256)),
        ("file:hashes.MD5", "D41D8CD98F00B204E9800998ECF8427E", (T.MD5, "d41d8cd98f00b204e9800998ecf8427e")),
        ("file:hashes.'sha-1'", "a" * 40, (T.SHA1, "a" * 40)),
        ('file:hashes."SHA-512"', "b" * 128, (T.SHA512, "b" * 128)),
        ("file:name", "evil.exe", (T.FILENAME, "evil.exe")),
        ("artifact:hashes.'SHA-256'", SHA256, (T.SHA256, SHA256)),
        ("x509-certificate:hashes.'SHA-1'", "c" * 40, (T.SHA1, "c" * 40)),
        ("windows-registry-key:key", "HKLM\\Run", (T.REGKEY, "HKEY_LOCAL_MACHINE\\Run")),
        ("mutex:name", "evil-mutex", (T.MUTEX, "evil-mutex")),
        (
            "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
            "EvilBot/1.0",
            (T.USER_AGENT, "EvilBot/1.0"),
        ),
        ("network-traffic:extensions.'x-tls-ext'.ja3", "d" * 32, (T.JA3, "d" * 32)),
        ("x-ja3:value", "E" * 32, (T.JA3, "e" * 32)),
        ("network-traffic:dst_ref.value", "198.51.100.1", (T.IPV4, "198.51.100.1")),
        ("network-traffic:dst_ref.value", "2001:db8::2", (T.IPV6, "2001:db8::2")),
        ("network-traffic:src_ref.value", "10.0.0.0/8", (T.CIDR, "10.0.0.0/8")),
        ("network-traffic:dst_ref.value", "evil.com", (T.DOMAIN, "evil.com")),
        ("domain-name:resolves_to_refs[*].value", "198.51.100.9", (T.IPV4, "198.51.100.9")),
    ],
)
def test_paths(path: str, literal: str, expected: tuple[IocType, str]) -> None:
    value = values_from_path(path, literal)
    assert value is not None and (value.type, value.value) == expected and value.problem is None, value
    assert value.raw == literal


@pytest.mark.parametrize(
    "path",
    [
        "file:hashes.'SHA3-256'",
        "file:hashes.SSDEEP",
        "file:size",
        "process:name",
        "software:name",
        "network-traffic:dst_port",
        "network-traffic:extensions.'http-request-ext'.request_header.'Host'",
        "email-message:subject",
        "vulnerability:name",
        "no-colon",
        ":value",
        "url:",
    ],
)
def test_paths_that_hold_nothing_indexed(path: str) -> None:
    assert values_from_path(path, "x") is None


def test_a_malformed_literal_is_flagged() -> None:
    value = values_from_path("domain-name:value", "evil .com")
    assert value is not None and value.problem is not None


def test_parse_path() -> None:
    assert parse_path("file:hashes.'SHA-256'") == ("file", ("hashes", "SHA-256"))
    assert parse_path("email-message:to_refs[*].value") == ("email-message", ("to_refs", "value"))
    assert parse_path("x:extensions.'a.b'.c") == ("x", ("extensions", "a.b", "c"))


@pytest.mark.parametrize(
    ("key", "kind"),
    [("MD5", T.MD5), ("SHA-1", T.SHA1), ("sha1", T.SHA1), ("SHA_256", T.SHA256), ("SHA-512", T.SHA512)],
)
def test_hash_keys(key: str, kind: IocType) -> None:
    assert hash_type(key) is kind


def test_hash_keys_not_indexed() -> None:
    assert {hash_type(key) for key in ("SHA3-256", "SHA3-512", "SSDEEP", "TLSH", "")} == {None}


def test_vulnerability_gives_its_cve_ids_once() -> None:
    obj = {
        "type": "vulnerability",
        "id": "vulnerability--1",
        "name": "CVE-2021-44228",
        "external_references": [
            {"source_name": "cve", "external_id": "cve-2021-44228"},
            {"source_name": "CVE", "external_id": "CVE-2021-45046"},
            {"source_name": "nvd", "url": "https://nvd.nist.gov/"},
            "junk",
        ],
    }
    assert pairs(values_from_sdo(obj)) == [(T.CVE, "CVE-2021-44228", True), (T.CVE, "CVE-2021-45046", True)]


def test_sdo_without_cve() -> None:
    assert values_from_sdo({"type": "vulnerability", "name": "Log4Shell"}) == []
    assert values_from_sdo({"type": "malware", "name": "CVE-2021-44228"}) == []
    assert pairs(
        values_from_sdo(
            {"type": "vulnerability", "external_references": [{"source_name": "cve", "external_id": "CVE-21"}]}
        )
    ) == [(T.CVE, "CVE-21", False)]
