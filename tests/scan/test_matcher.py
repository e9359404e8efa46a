"""Exact semantics of the scanner: whole tokens, domains and their subdomains only, addresses in any notation,
networks by containment, normalised URLs, hashes as whole hex tokens, e-mail addresses exact."""

from __future__ import annotations

import pytest

from tests.scan import helpers
from tests.scan.helpers import compile_lines, hits


@pytest.fixture(autouse=True, params=["compiled", "python"])
def first_stage(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every exact-semantics test runs with the compiled first stage and with the pure-Python one."""
    monkeypatch.setitem(helpers.STAGE, "compiled", request.param == "compiled")


def test_a_domain_matches_itself_and_subdomains_only() -> None:
    matcher = compile_lines("evil.com")
    log = b"\n".join(
        [
            b"query evil.com IN A",
            b"query sub.EVIL.com. IN A",
            b"query notevil.com IN A",
            b"query evil.com.attacker.net IN A",
            b"GET http://a.b.evil.com:8080/x",
            b"evil.community is not it",
            b"mail from alice@evil.com",
            b"evil-com and evil_com.org",
        ]
    )
    found = hits(matcher, log + b"\n")
    assert [(line, observed) for line, _t, _i, observed in found] == [
        (1, "evil.com"),
        (2, "sub.EVIL.com"),
        (5, "a.b.evil.com"),
        (7, "evil.com"),
    ]
    assert {indicator for _l, _t, indicator, _o in found} == {"evil.com"}


def test_ipv4_addresses_are_whole_tokens() -> None:
    matcher = compile_lines("10.1.1.1")
    log = b"src=10.1.1.10 dst=110.1.1.1\nconnect 10.1.1.1:443\n10.1.1.1.5 is not an address\n[10.1.1.1]\n"
    assert [(line, observed) for line, _t, _i, observed in hits(matcher, log)] == [(2, "10.1.1.1"), (4, "10.1.1.1")]


@pytest.mark.parametrize(
    "written",
    [
        b"2001:db8::1",
        b"2001:0DB8:0000:0000:0000:0000:0000:0001",
        b"2001:db8:0:0:0:0:0:1",
        b"[2001:db8::1]:443",
    ],
)
def test_ipv6_in_any_notation(written: bytes) -> None:
    matcher = compile_lines("2001:0db8::0001")
    found = hits(matcher, b"conn " + written + b" ok\n2001:db8::10 no\n")
    assert [(line, kind, indicator) for line, kind, indicator, _o in found] == [(1, "ipv6", "2001:db8::1")]


def test_ipv4_mapped_ipv6_in_mixed_notation() -> None:
    matcher = compile_lines("::ffff:192.0.2.7")
    found = hits(matcher, b"from ::ffff:192.0.2.7 and 0:0:0:0:0:ffff:c000:207\nfrom ::ffff:192.0.2.70\n")
    assert [(line, indicator) for line, _k, indicator, _o in found] == [(1, "::ffff:192.0.2.7")]


def test_networks_match_by_containment() -> None:
    matcher = compile_lines("192.168.0.0/16", "203.0.113.0/25", "2001:db8:aa00::/40")
    log = b"a 192.168.200.3\nb 192.169.0.1\nc 203.0.113.127\nd 203.0.113.128\ne 2001:db8:aaff::9\nf 2001:db8:ab00::1\n"
    found = hits(matcher, log)
    assert [(line, indicator) for line, _k, indicator, _o in found] == [
        (1, "192.168.0.0/16"),
        (3, "203.0.113.0/25"),
        (5, "2001:db8:aa00::/40"),
    ]


def test_urls_are_normalised_and_the_scheme_ignored() -> None:
    matcher = compile_lines("hxxp://Bad[.]example/a%7eb/c.php?id=1")
    log = b"\n".join(
        [
            b"GET https://BAD.example:443/a~b/c.php?id=1 200",
            b"GET http://bad.example:80/a%7Eb/c.php?id=1 200",
            b"GET http://bad.example/a~b/c.php?id=2 200",
            b"GET http://bad.example/a~b/c.php 200",
            b"GET http://notbad.example/a~b/c.php?id=1 200",
            b"referer bad.example/a~b/c.php?id=1#top",
        ]
    )
    found = hits(matcher, log + b"\n")
    assert [line for line, kind, _i, _o in found if kind == "url"] == [1, 2, 6]
    assert {indicator for _l, _k, indicator, _o in found} == {"http://bad.example/a~b/c.php?id=1"}


def test_hashes_are_whole_tokens_case_insensitive() -> None:
    digest = "d41d8cd98f00b204e9800998ecf8427e"
    matcher = compile_lines(digest.upper())
    log = f"md5={digest.upper()}\nsha={digest}00ff\nx{digest}\nHashes: SHA1=aa,MD5={digest}\n".encode()
    assert [(line, kind) for line, kind, _i, _o in hits(matcher, log)] == [(1, "md5"), (4, "md5")]


def test_email_addresses_are_exact() -> None:
    matcher = compile_lines("Bob@Evil.example")
    log = b"from <bob@evil.example>\nfrom xbob@evil.example\nto bob@evil.example.net\nmailto:BOB@EVIL.EXAMPLE\n"
    found = hits(matcher, log)
    assert [(line, observed) for line, kind, _i, observed in found if kind == "email"] == [
        (1, "bob@evil.example"),
        (4, "BOB@EVIL.EXAMPLE"),
    ]


def test_internationalised_domain_in_unicode_and_punycode() -> None:
    for listed in ("bộcôngan.vn", "xn--bcngan-jxa6332d.vn"):
        matcher = compile_lines(listed)
        log = "q xn--bcngan-jxa6332d.vn\nq www.bộcôngan.vn\nq bocongan.vn\n".encode()
        found = hits(matcher, log)
        assert [(line, indicator) for line, _k, indicator, _o in found] == [
            (1, "xn--bcngan-jxa6332d.vn"),
            (2, "xn--bcngan-jxa6332d.vn"),
        ]


def test_defanged_indicators_are_refanged() -> None:
    matcher = compile_lines("evil[.]example", "198.51.100(.)7", "hxxps://c2[.]example/p")
    found = hits(matcher, b"evil.example\n198.51.100.7\nhttps://c2.example/p\n")
    assert [(line, kind) for line, kind, _i, _o in found] == [(1, "domain"), (2, "ipv4"), (3, "url")]


def test_invalid_utf8_and_binary_bytes_inside_lines() -> None:
    matcher = compile_lines("evil.example")
    log = b"\xff\xfe garbage \xc3 evil.example \x80\x81\nnothing \xe2\x82\n"
    assert [(line, indicator) for line, _k, indicator, _o in hits(matcher, log)] == [(1, "evil.example")]


def test_a_megabyte_line() -> None:
    matcher = compile_lines("evil.example")
    log = b"x" * 3_000_000 + b" evil.example " + b"y" * 2_000_000 + b"\nshort line\n"
    assert [line for line, *_rest in hits(matcher, log)] == [1]


def test_trailing_dots_at_the_very_end_of_the_input() -> None:
    """The last line has no newline and the name ends with dots (the Python first stage once missed it)."""
    matcher = compile_lines("evil.example")
    assert [(line, observed) for line, _k, _i, observed in hits(matcher, b"ok\nq evil.example..")] == [
        (2, "evil.example")
    ]


def test_a_url_on_an_ipv6_address_in_any_notation() -> None:
    matcher = compile_lines("http://[2001:db8::1]/p")
    log = (
        b"GET http://[2001:db8::1]/p HTTP/1.1\n"
        b"GET https://[2001:0DB8:0:0::1]:443/p HTTP/1.1\n"
        b"GET http://[2001:db8::1]/other HTTP/1.1\n"
        b"GET http://[2001:db8::10]/p HTTP/1.1\n"
    )
    assert [(line, kind, indicator) for line, kind, indicator, _o in hits(matcher, log)] == [
        (1, "url", "http://[2001:db8::1]/p"),
        (2, "url", "http://[2001:db8::1]/p"),
    ]
