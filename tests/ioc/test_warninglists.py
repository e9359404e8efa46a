"""Warninglists: the MISP format, each list type's semantics, malformed files, and the shipped lists."""

from __future__ import annotations

import gzip
import ipaddress
import json
import random
from pathlib import Path
from typing import Any

import pytest

from herdsec.core.errors import InvalidInput
from herdsec.ioc import warninglists as wls
from herdsec.ioc.types import IocType, Value
from herdsec.ioc.warninglists import (
    REGEX_MAX_INPUT,
    Hit,
    ListType,
    Warninglist,
    WarninglistSet,
    ioc_types_for,
    load,
    load_directory,
    shipped,
)

IP_ATTRS = ["ip-src", "ip-dst", "domain|ip"]
NAME_ATTRS = ["domain", "hostname", "url", "domain|ip"]
SHARED_LISTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "misp-warninglists" / "lists"
DATA_DIR = Path(wls.__file__).parent / "data" / "warninglists"


def make(kind: str, entries: list[str], attrs: list[str] | None = None, name: str = "test") -> Warninglist:
    doc: dict[str, Any] = {"name": name, "version": 1, "description": "d", "type": kind, "list": entries}
    if attrs is not None:
        doc["matching_attributes"] = attrs
    return load(doc)


def v(t: IocType, text: str) -> Value:
    return Value(t, text, text)


def entries(wset: WarninglistSet, t: IocType, text: str) -> list[str]:
    return [h.entry for h in wset.match(v(t, text))]


def names(wset: WarninglistSet, t: IocType, text: str) -> set[str]:
    return {h.list_name for h in wset.match(v(t, text))}


# --- loading ---------------------------------------------------------------------------------------------------


def test_load_keeps_the_fields_and_cleans_entries() -> None:
    wl = load(
        {
            "name": " Sample ",
            "version": "20240101",
            "description": "about",
            "type": "cidr",
            "matching_attributes": ["ip-src", "ip-dst"],
            "list": [" 10.0.0.0/8 ", "", "10.0.0.0/8", "192.0.2.1"],
        }
    )
    assert wl.name == "Sample"
    assert wl.version == 20240101
    assert wl.description == "about"
    assert wl.type is ListType.CIDR
    assert wl.matching_attributes == ("ip-src", "ip-dst")
    assert wl.entries == ("10.0.0.0/8", "192.0.2.1")
    assert wl.source == "<dict>"
    assert wl.ioc_types == {IocType.IPV4, IocType.IPV6, IocType.CIDR}


def test_load_reads_json_and_gzip_files_and_directories(tmp_path: Path) -> None:
    doc = {"name": "a", "version": 1, "description": "", "type": "string", "list": ["x"]}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(json.dumps({**doc, "name": "b"}).encode()))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "list.json").write_text(json.dumps({**doc, "name": "c"}))
    (tmp_path / "README.md").write_text("not a list")
    assert load(tmp_path / "a.json").source == str(tmp_path / "a.json")
    assert load(str(tmp_path / "b.json.gz")).name == "b"
    found = load_directory(tmp_path)
    assert [(wl.name, wl.source) for wl in found] == [("a", "a.json"), ("b", "b.json.gz"), ("c", "c/list.json")]


@pytest.mark.parametrize(
    ("content", "where_suffix", "words"),
    [
        ('{"name": "x", "type": "string", ', "", "Not valid JSON"),
        ("[1, 2]", "", "JSON object"),
        ('{"name": "x", "version": 1, "description": "", "type": "string"}', ":list", "list is missing"),
        ('{"version": 1, "type": "string", "list": []}', ":name", "name is missing"),
        ('{"name": "x", "version": 1, "type": "wildcard", "list": []}', ":type", "Unknown warninglist type"),
        ('{"name": "x", "version": 1, "type": 5, "list": []}', ":type", "Unknown warninglist type"),
        ('{"name": "x", "version": "v2", "type": "string", "list": []}', ":version", "integer"),
        ('{"name": "x", "version": 1, "type": "string", "list": "a,b"}', ":list", "list of strings"),
        ('{"name": "x", "version": 1, "type": "string", "list": ["a", 7]}', ":list[1]", "not int"),
        (
            '{"name": "x", "version": 1, "type": "string", "list": [], "matching_attributes": "ip-src"}',
            ":matching_attributes",
            "list of strings",
        ),
        ('{"name": "", "version": 1, "type": "string", "list": []}', ":name", "non-empty"),
    ],
)
def test_malformed_files_name_the_file_and_field(tmp_path: Path, content: str, where_suffix: str, words: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(InvalidInput) as info:
        load(path)
    assert info.value.where == f"{path}{where_suffix}"
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_bad_json_error_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  "list": [1,,]\n}')
    with pytest.raises(InvalidInput) as info:
        load(path)
    assert info.value.params["line"] == 3


def test_bad_gzip_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "x.json.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InvalidInput, match="gzip"):
        load(tmp_path / "x.json.gz")
    with pytest.raises(InvalidInput, match="Cannot read") as info:
        load(tmp_path / "absent.json")
    assert info.value.where == str(tmp_path / "absent.json")


def test_a_directory_with_a_broken_list_names_it(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text('{"name": "g", "version": 1, "type": "string", "list": []}')
    (tmp_path / "bad.json").write_text('{"name": "b", "version": 1, "type": "string"}')
    with pytest.raises(InvalidInput) as info:
        load_directory(tmp_path)
    assert info.value.where == "bad.json:list"


# --- which lists apply to which value types ----------------------------------------------------------------------


def test_matching_attributes_map_onto_value_types() -> None:
    assert ioc_types_for(["ip-src", "ip-dst|port"]) == {IocType.IPV4, IocType.IPV6, IocType.CIDR}
    assert ioc_types_for(["domain|ip"]) == {IocType.IPV4, IocType.IPV6, IocType.CIDR, IocType.DOMAIN}
    assert ioc_types_for(["hostname", "url", "email-src"]) == {IocType.DOMAIN, IocType.URL, IocType.EMAIL}
    assert ioc_types_for(["filename|md5", "sha256", "ssdeep"]) == {IocType.MD5, IocType.SHA256}
    assert ioc_types_for(["phone-number"]) == frozenset()
    assert ioc_types_for([]) == frozenset(IocType)


def test_a_list_only_applies_to_its_matching_attributes() -> None:
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    wset = WarninglistSet(
        [make("string", [md5], ["md5"], name="md5 only"), make("string", [md5], None, name="all types")]
    )
    assert names(wset, IocType.MD5, md5) == {"md5 only", "all types"}
    assert names(wset, IocType.FILENAME, md5) == {"all types"}
    ips = WarninglistSet([make("cidr", ["10.0.0.0/8"], ["ip-src"])])
    assert ips.match(v(IocType.DOMAIN, "10.0.0.1")) == []


# --- string ------------------------------------------------------------------------------------------------------


def test_string_is_an_exact_case_insensitive_match() -> None:
    wset = WarninglistSet([make("string", ["Example.COM", "D41D8CD98F00B204E9800998ECF8427E"], [])])
    assert entries(wset, IocType.DOMAIN, "example.com") == ["Example.COM"]
    assert entries(wset, IocType.DOMAIN, "www.example.com") == []
    assert entries(wset, IocType.DOMAIN, "example.co") == []
    assert entries(wset, IocType.MD5, "d41d8cd98f00b204e9800998ecf8427e") == ["D41D8CD98F00B204E9800998ECF8427E"]
    hit = wset.match(v(IocType.DOMAIN, "example.com"))[0]
    assert hit == Hit("test", ListType.STRING, "Example.COM")


def test_string_entries_are_normalised_like_values() -> None:
    wset = WarninglistSet(
        [make("string", [".google.ad", "2001:DB8:0::0001", "10.1.2.3/8", "bücher.de.", "ExAmple.org"], [])]
    )
    assert entries(wset, IocType.DOMAIN, "google.ad") == [".google.ad"]  # a leading dot: the domain, exactly
    assert entries(wset, IocType.DOMAIN, "www.google.ad") == []
    assert entries(wset, IocType.IPV6, "2001:db8::1") == ["2001:DB8:0::0001"]
    assert entries(wset, IocType.CIDR, "10.0.0.0/8") == ["10.1.2.3/8"]
    assert entries(wset, IocType.DOMAIN, "xn--bcher-kva.de") == ["bücher.de."]
    assert entries(wset, IocType.DOMAIN, "EXAMPLE.org.") == ["ExAmple.org"]


def test_string_compares_a_url_by_host_and_an_email_by_domain() -> None:
    wset = WarninglistSet(
        [
            make("string", ["mailinator.com", "x@y.org"], ["email-src"], name="mail"),
            make("string", ["google.com", "https://google.com/a"], ["url"], name="web"),
        ]
    )
    assert entries(wset, IocType.EMAIL, "someone@mailinator.com") == ["mailinator.com"]
    assert entries(wset, IocType.EMAIL, "x@y.org") == ["x@y.org"]
    assert entries(wset, IocType.URL, "https://google.com/a") == ["google.com", "https://google.com/a"]
    assert entries(wset, IocType.URL, "https://user@google.com:8443/b?c#d") == ["google.com"]
    assert entries(wset, IocType.URL, "https://www.google.com/") == []
    assert entries(wset, IocType.DOMAIN, "mailinator.com") == []  # no domain attribute


# --- hostname ----------------------------------------------------------------------------------------------------


def test_hostname_matches_the_domain_and_its_subdomains() -> None:
    wset = WarninglistSet([make("hostname", ["google.com", ".Example.ORG.", "*.wild.net", "bücher.de"], NAME_ATTRS)])
    assert entries(wset, IocType.DOMAIN, "google.com") == ["google.com"]
    assert entries(wset, IocType.DOMAIN, "www.google.com") == ["google.com"]
    assert entries(wset, IocType.DOMAIN, "a.b.c.google.com") == ["google.com"]
    assert entries(wset, IocType.DOMAIN, "notgoogle.com") == []
    assert entries(wset, IocType.DOMAIN, "google.com.evil.net") == []
    assert entries(wset, IocType.DOMAIN, "google.co") == []
    assert entries(wset, IocType.DOMAIN, "com") == []
    assert entries(wset, IocType.DOMAIN, "mail.example.org") == [".Example.ORG."]
    assert entries(wset, IocType.DOMAIN, "wild.net") == ["*.wild.net"]
    assert entries(wset, IocType.DOMAIN, "shop.xn--bcher-kva.de") == ["bücher.de"]


def test_hostname_matches_a_url_by_its_host_and_an_email_by_its_domain() -> None:
    wset = WarninglistSet(
        [
            make("hostname", ["google.com"], ["url"], name="web"),
            make("hostname", ["mailinator.com"], ["email-src"], name="mail"),
        ]
    )
    assert entries(wset, IocType.URL, "https://mail.google.com:443/x?y=notgoogle.com") == ["google.com"]
    assert entries(wset, IocType.URL, "http://evil.net/google.com") == []
    assert entries(wset, IocType.EMAIL, "bob@eu.mailinator.com") == ["mailinator.com"]
    assert entries(wset, IocType.EMAIL, "mailinator.com@evil.net") == []


def test_public_suffixes_bound_the_subdomain_walk() -> None:
    lists = [make("hostname", ["github.io", "example.github.io", "amazonaws.com"], NAME_ATTRS)]
    misp_like = WarninglistSet(lists)
    assert entries(misp_like, IocType.DOMAIN, "evil.github.io") == ["github.io"]
    bounded = WarninglistSet(lists, public_suffixes=["github.io", "s3.amazonaws.com", "IO"])
    assert entries(bounded, IocType.DOMAIN, "github.io") == ["github.io"]
    assert entries(bounded, IocType.DOMAIN, "evil.github.io") == []
    assert entries(bounded, IocType.DOMAIN, "www.example.github.io") == ["example.github.io"]
    assert entries(bounded, IocType.DOMAIN, "bucket.s3.amazonaws.com") == []
    assert entries(bounded, IocType.DOMAIN, "console.amazonaws.com") == ["amazonaws.com"]


# --- substring ---------------------------------------------------------------------------------------------------


def test_substring_finds_every_entry_in_the_value() -> None:
    wset = WarninglistSet([make("substring", ["any.run", "VirusTotal.com", "c.com", "abc.com", "b"], [])])
    assert entries(wset, IocType.DOMAIN, "app.any.run") == ["any.run"]
    assert entries(wset, IocType.URL, "https://www.virustotal.com/gui") == ["VirusTotal.com"]
    assert sorted(entries(wset, IocType.DOMAIN, "abc.com")) == ["abc.com", "b", "c.com"]  # overlapping
    assert entries(wset, IocType.DOMAIN, "nothing.org") == []
    assert entries(wset, IocType.DOMAIN, "any.ru") == []


def test_substring_scales_to_thousands_of_entries() -> None:
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-."
    needles = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(3, 30))) for _ in range(5000)})
    wset = WarninglistSet([make("substring", needles, [])])
    assert not wset.problems
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        if rng.random() < 0.5:
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(needles) + text[at:]
        expected = sorted(n for n in needles if n in text)
        assert sorted(entries(wset, IocType.FILENAME, text)) == expected


# --- cidr --------------------------------------------------------------------------------------------------------


def test_cidr_matches_addresses_in_v4_and_v6_networks() -> None:
    wset = WarninglistSet(
        [
            make("cidr", ["10.0.0.0/8", "192.0.2.5", "2001:DB8::/32", "10.1.2.3/16"], IP_ATTRS, name="a"),
            make("cidr", ["10.1.0.0/16", "::1"], IP_ATTRS, name="b"),
        ]
    )
    assert entries(wset, IocType.IPV4, "10.0.0.0") == ["10.0.0.0/8"]
    assert entries(wset, IocType.IPV4, "10.255.255.255") == ["10.0.0.0/8"]
    assert entries(wset, IocType.IPV4, "9.255.255.255") == []
    assert entries(wset, IocType.IPV4, "11.0.0.0") == []
    assert entries(wset, IocType.IPV4, "192.0.2.5") == ["192.0.2.5"]
    assert entries(wset, IocType.IPV4, "192.0.2.6") == []
    assert entries(wset, IocType.IPV4, "10.1.200.3") == ["10.0.0.0/8", "10.1.2.3/16", "10.1.0.0/16"]
    assert entries(wset, IocType.IPV6, "2001:db8:ffff::1") == ["2001:DB8::/32"]
    assert entries(wset, IocType.IPV6, "2001:db9::1") == []
    assert entries(wset, IocType.IPV6, "::1") == ["::1"]
    assert entries(wset, IocType.IPV6, "::ffff:10.9.8.7") == ["10.0.0.0/8"]  # IPv4-mapped
    assert entries(wset, IocType.IPV4, "not an ip") == []


def test_cidr_matches_a_queried_network_inside_a_listed_one() -> None:
    wset = WarninglistSet([make("cidr", ["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"], IP_ATTRS)])
    assert entries(wset, IocType.CIDR, "10.1.0.0/16") == ["10.0.0.0/8", "10.1.0.0/16"]
    assert entries(wset, IocType.CIDR, "10.2.0.0/16") == ["10.0.0.0/8"]
    assert entries(wset, IocType.CIDR, "10.0.0.0/8") == ["10.0.0.0/8"]
    assert entries(wset, IocType.CIDR, "10.1.255.255/32") == ["10.0.0.0/8", "10.1.0.0/16"]
    assert entries(wset, IocType.CIDR, "10.0.0.0/7") == []  # overlaps, but is bigger
    assert entries(wset, IocType.CIDR, "9.0.0.0/8") == []
    assert entries(wset, IocType.CIDR, "2001:db8:1::/48") == ["2001:db8::/32"]
    assert entries(wset, IocType.CIDR, "2001:db8::/31") == []


def test_cidr_matches_a_url_whose_host_is_an_ip() -> None:
    wset = WarninglistSet([make("cidr", ["10.0.0.0/8", "2001:db8::/32"], IP_ATTRS)])
    assert entries(wset, IocType.URL, "http://10.0.0.1:8080/admin") == ["10.0.0.0/8"]
    assert entries(wset, IocType.URL, "http://[2001:db8::1]/") == ["2001:db8::/32"]
    assert entries(wset, IocType.URL, "http://example.com/10.0.0.1") == []


def test_cidr_index_agrees_with_ipaddress_on_random_overlapping_networks() -> None:
    rng = random.Random(11)
    nets = sorted(
        {ipaddress.ip_network((rng.randrange(1 << 32) & ~0xFFFF, rng.randint(8, 32)), strict=False) for _ in range(300)}
        | {ipaddress.ip_network(rng.randrange(1 << 32)) for _ in range(300)}
    )
    wset = WarninglistSet([make("cidr", [str(n) for n in nets], IP_ATTRS)])
    for _ in range(2000):
        base = rng.choice(nets)
        ip = ipaddress.ip_address(int(base.network_address) + rng.randrange(-3, base.num_addresses + 3) % (1 << 32))
        expected = sorted(str(n) for n in nets if ip in n)
        assert sorted(entries(wset, IocType.IPV4, str(ip))) == expected
    for _ in range(500):
        query = ipaddress.ip_network((rng.choice(nets).network_address, rng.randint(4, 32)), strict=False)
        expected = sorted(str(n) for n in nets if query.subnet_of(n))
        assert sorted(entries(wset, IocType.CIDR, str(query))) == expected


def test_unusable_cidr_entries_are_recorded_not_fatal() -> None:
    wset = WarninglistSet([make("cidr", ["10.0.0.0/8", "10.0.0.0/33", "example.com", "fe80::1%eth0"], IP_ATTRS)])
    assert [p.entry for p in wset.problems] == ["10.0.0.0/33", "example.com", "fe80::1%eth0"]
    assert wset.problems[0].where == "<dict>:list"
    assert entries(wset, IocType.IPV4, "10.0.0.1") == ["10.0.0.0/8"]


# --- regex -------------------------------------------------------------------------------------------------------


def test_regex_uses_the_misp_delimited_syntax() -> None:
    wset = WarninglistSet(
        [make("regex", [r"/^(security|noc|soc|abuse)\@.*\..*$/i", r"^postmaster@", "#^hostmaster@#"], ["email-src"])]
    )
    assert len(wset.match(v(IocType.EMAIL, "Abuse@Example.org"))) == 1
    assert entries(wset, IocType.EMAIL, "postmaster@example.org") == [r"^postmaster@"]
    assert entries(wset, IocType.EMAIL, "hostmaster@example.org") == ["#^hostmaster@#"]
    assert entries(wset, IocType.EMAIL, "alice@example.org") == []
    assert entries(wset, IocType.EMAIL, "Postmaster@example.org") == []  # no /i
    long_value = "abuse@" + "a" * REGEX_MAX_INPUT + ".org"
    assert entries(wset, IocType.EMAIL, long_value) == []


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"/(a+)+$/", "nested"),
        (r"(\w+\.)+com", "nested"),
        (r"(?:x*)*y", "nested"),
        (r"(?i:ab+)+", "nested"),
        (r"(x{1,5})*", "nested"),
        (r"^(\d+)-\1$", "backreference"),
        (r"(?P<a>x)(?P=a)", "backreference"),
        ("/a/U", "flag"),
        ("[unclosed", "invalid"),
        ("a" * 1001, "longer"),
    ],
)
def test_dangerous_or_broken_regexes_are_refused_and_recorded(pattern: str, reason: str) -> None:
    wset = WarninglistSet([make("regex", [pattern, "^ok$"], [])])
    assert [p.entry for p in wset.problems] == [pattern]
    assert reason in wset.problems[0].reason
    assert entries(wset, IocType.FILENAME, "ok") == ["^ok$"]


@pytest.mark.parametrize(
    "pattern",
    [
        r"/((?:\+|00)44)?01(13|14|15|16|17|18|21|31|41|51|61)4960([0-9]{3})/g",
        r"^(?:\d{1,3}\.){3}\d{1,3}$",
        r"\(a+\)+",
        r"[(+*]+x",
        r"(?<=a)b+",
        r"(ab)+c",
    ],
)
def test_safe_regexes_are_accepted(pattern: str) -> None:
    assert not WarninglistSet([make("regex", [pattern], [])]).problems


# --- the shipped lists -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ship() -> WarninglistSet:
    return shipped()


@pytest.mark.parametrize(
    ("t", "text", "list_name"),
    [
        (IocType.IPV4, "8.8.8.8", "List of known IPv4 public DNS resolvers"),
        (IocType.IPV4, "10.1.2.3", "List of RFC 1918 CIDR blocks"),
        (IocType.IPV4, "192.168.0.1", "List of RFC 1918 CIDR blocks"),
        (IocType.IPV4, "100.64.1.1", "List of RFC 6598 CIDR blocks"),
        (IocType.IPV4, "203.0.113.77", "List of RFC 5735 CIDR blocks"),
        (IocType.IPV6, "2001:db8::1", "List of RFC 3849 CIDR blocks"),
        (IocType.IPV6, "fe80::1", "List of IPv6 link local blocks"),
        (IocType.IPV6, "::1", "List of IPv6 special-purpose blocks (HerdSec)"),
        (IocType.IPV6, "fd12:3456::1", "List of IPv6 special-purpose blocks (HerdSec)"),
        (IocType.IPV6, "2001:4860:4860::8888", "List of known IPv6 public DNS resolvers"),
        (IocType.CIDR, "192.168.10.0/24", "List of RFC 1918 CIDR blocks"),
        (IocType.IPV4, "52.95.110.1", "List of known Amazon AWS IP address ranges"),
        (IocType.IPV4, "104.16.0.1", "List of known Cloudflare IP ranges"),
        (IocType.IPV4, "151.101.1.69", "List of known Fastly IP address ranges"),
        (IocType.DOMAIN, "dns.google", "List of known public DNS resolvers expressed as hostname"),
        (IocType.DOMAIN, "www.wikipedia.org", "Top 10K most-used sites from Tranco"),
        (IocType.URL, "https://www.wikipedia.org/wiki/Hanoi", "Top 10K most-used sites from Tranco"),
        (IocType.DOMAIN, "example.com", "List of RFC 6761 Special-Use Domain Names"),
        (IocType.DOMAIN, "co.uk", "Second level TLDs as known by Mozilla Foundation"),
        (IocType.MD5, "d41d8cd98f00b204e9800998ecf8427e", "List of known hashes for empty files"),
        (
            IocType.SHA256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "List of known hashes for empty files",
        ),
        (IocType.EMAIL, "abuse@example.vn", "Common contact e-mail addresses"),
    ],
)
def test_shipped_lists_flag_well_known_values(ship: WarninglistSet, t: IocType, text: str, list_name: str) -> None:
    assert list_name in names(ship, t, text)


@pytest.mark.parametrize(
    ("t", "text"),
    [
        (IocType.DOMAIN, "evil-example-hub-test.com"),
        (IocType.DOMAIN, "notgoogle.com"),
        (IocType.DOMAIN, "evil.github.io"),  # github.io is a top domain but a public suffix
        (IocType.DOMAIN, "login-microsoft.duckdns.org"),
        (IocType.URL, "https://evil-bucket.s3.amazonaws.com/payload.exe"),
        (IocType.IPV4, "123.45.67.89"),
        (IocType.MD5, "0123456789abcdef0123456789abcdef"),
        (IocType.EMAIL, "alice@evil-example-hub-test.com"),
    ],
)
def test_shipped_lists_leave_ordinary_values_alone(ship: WarninglistSet, t: IocType, text: str) -> None:
    if t is IocType.IPV4:
        assert ipaddress.ip_address(text).is_global
    assert ship.match(v(t, text)) == []


def test_shipped_set_is_cached_and_clean(ship: WarninglistSet) -> None:
    assert shipped() is ship
    assert len(ship) >= 35
    assert ship.entry_count > 100_000
    # Upstream has one hostname with a stray backslash; nothing else may be unusable (no CIDR, no regex refused).
    assert {p.list_name for p in ship.problems} <= {"List of known public DNS resolvers expressed as hostname"}
    assert len(ship.problems) <= 5
    list_names = [wl.name for wl in ship.lists]
    assert len(set(list_names)) == len(list_names)
    assert not [n for n in list_names if "," in n]  # the hub stores the names of a value's lists comma-separated


def test_shipped_files_are_documented_and_small() -> None:
    files = sorted(p for p in DATA_DIR.iterdir() if p.name.endswith((".json", ".json.gz")))
    sources = (DATA_DIR / "SOURCES.md").read_text()
    assert files
    for path in files:
        assert f"`{path.name}`" in sources
    assert sum(p.stat().st_size for p in files) < 5_000_000


@pytest.mark.skipif(not SHARED_LISTS.is_dir(), reason="the misp-warninglists reference data (../shared) is absent")
def test_shipped_files_are_rebuilt_exactly_from_the_reference_data(tmp_path: Path) -> None:
    commit = next(
        line.split("Commit:")[1].split()[0]
        for line in (SHARED_LISTS.parent / "MANIFEST.md").read_text().splitlines()
        if "Commit:" in line
    )
    written = wls.refresh(SHARED_LISTS, tmp_path, commit=commit)
    assert sorted(written) == sorted(p.name for p in DATA_DIR.iterdir() if p.name.endswith((".json", ".json.gz")))
    for name in [*written, "SOURCES.md"]:
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
