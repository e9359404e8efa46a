"""Export writers: structure of every format, formula injection, hostile values that must never break a file."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime

import pytest
from suricata.update import rule as suricata_rule

from herdsec.core.errors import InvalidInput
from herdsec.intel.exportable import ExportValue
from herdsec.intel.exports import FORMATS, ExportOptions, get_format
from herdsec.intel.exports.csvfile import cell, stamp
from herdsec.intel.exports.suricata import content_text
from herdsec.intel.stix import format_timestamp
from herdsec.ioc.types import IocType

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HOSTILE = [
    'evil.xyz"; sid:1; rev:1;) alert ip any any -> any any (msg:"x',
    "evil.xyz\nattacker.xyz CNAME rpz-passthru.",
    "evil.xyz;drop",
    "evil xyz",
    "-evil.xyz\t=cmd",
]


def value(kind: IocType, text: str, **extra: object) -> ExportValue:
    fields: dict[str, object] = {
        "type": kind,
        "value": text,
        "indicator_id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "name": None,
        "source": "Ngân hàng Nguồn",
        "tlp": 1,
        "date_added": T,
        "modified": T,
        "score": 87.5,
        "indicators": 1,
    }
    fields.update(extra)
    return ExportValue(**fields)  # type: ignore[arg-type]


SAMPLE = [
    value(IocType.DOMAIN, "listed.example"),
    value(IocType.DOMAIN, "xn--bcngan-jxa6332d.vn"),
    value(IocType.IPV4, "91.243.44.12"),
    value(IocType.IPV6, "2a0d:5600:1::66"),
    value(IocType.CIDR, "91.243.45.0/24"),
    value(IocType.URL, 'http://c2-bad.xyz/gate.php?id=1&x="|;\\'),
    value(IocType.SHA256, "5f0c7e6b4a1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b"),
    value(IocType.JA3, "e7d705a3286e19ea42f587b344ee6865"),
    value(IocType.USER_AGENT, "EvilAgent/1.0 (bot)"),
    value(IocType.EMAIL, "phish@c2-bad.xyz"),
]
HOSTILE_VALUES = [value(IocType.DOMAIN, text, problem="bad") for text in HOSTILE]


def render(name: str, values: list[ExportValue], part: str | None = None, **options: object) -> str:
    fmt = get_format(name)
    selected = fmt.part(part)
    wanted = [v for v in values if v.type in selected.types]
    return "".join(selected.write(iter(wanted), ExportOptions(**options)))  # type: ignore[arg-type]


def rules_of(text: str) -> list[suricata_rule.Rule]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    parsed = [suricata_rule.parse(line) for line in lines]
    assert all(p is not None for p in parsed), [line for line, p in zip(lines, parsed, strict=True) if p is None]
    return parsed


def test_registry_has_every_format_and_refuses_unknown_names() -> None:
    assert {"stix", "csv", "txt", "suricata", "suricata-dataset", "zeek", "rpz", "hosts", "nft", "ipset"} <= set(
        FORMATS
    )
    with pytest.raises(InvalidInput):
        get_format("pdf")
    with pytest.raises(InvalidInput):
        get_format("suricata-dataset").part("nope")


def test_txt_is_one_value_per_line() -> None:
    text = render("txt", SAMPLE)
    assert text.splitlines() == [v.value for v in SAMPLE]
    assert render("txt", [value(IocType.DOMAIN, "a.xyz\nb.xyz")]) == ""


def test_csv_has_a_header_and_is_safe_from_formula_injection() -> None:
    risky = [
        value(IocType.USER_AGENT, '=HYPERLINK("http://x")', name="+SUM(1,2)"),
        value(IocType.FILENAME, "@cmd|' /C calc'!A0", name="-2+3"),
        value(IocType.FILENAME, "\tTAB", name="\rCR"),
        value(IocType.DOMAIN, "safe.xyz", name='Quote " and, comma'),
    ]
    rows = list(csv.reader(io.StringIO(render("csv", risky))))
    assert rows[0][:3] == ["type", "value", "indicator"]
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert rows[1][1] == '\'=HYPERLINK("http://x")' and rows[1][3] == "'+SUM(1,2)"
    assert rows[2][1].startswith("'@") and rows[2][3] == "'-2+3" and rows[3][1] == "'\tTAB"
    assert rows[4][3] == 'Quote " and, comma' and rows[4][5] == "green"
    assert cell("91.243.44.12") == "91.243.44.12"
    for moment in (T, T.replace(microsecond=123000), T.replace(microsecond=123456)):
        assert stamp(moment) == format_timestamp(moment)


def test_suricata_rules_parse_with_unique_sids_and_name_the_indicator() -> None:
    text = render("suricata", SAMPLE + HOSTILE_VALUES, sid_base=4_100_000)
    rules = rules_of(text)
    sids = [r["sid"] for r in rules]
    assert len(sids) == len(set(sids)) and min(sids) == 4_100_000
    assert all("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" in r["msg"] for r in rules)
    dns = [r for r in rules if r["proto"] == "dns"]
    assert {r["proto"] for r in rules} == {"dns", "tls", "http", "ip"}
    assert len(dns) == 2 and 'dotprefix; content:".listed.example"; nocase; endswith;' in dns[0]["raw"]
    assert any('http.host; dotprefix; content:".listed.example"; endswith;' in r["raw"] for r in rules)
    assert any(r["dest_addr"] == "[91.243.45.0/24]" and r["direction"] == "<>" for r in rules)
    assert any("ja3.hash" in r["raw"] for r in rules)
    url = next(r for r in rules if "http.uri" in r["raw"])
    assert 'content:"/gate.php?id=1&x=|22 7C 3B 5C|"' in url["raw"]
    for hostile in HOSTILE:
        assert hostile not in text and "attacker" not in text


def test_suricata_content_escaping() -> None:
    assert content_text('a"b;c\\d|e') == "a|22|b|3B|c|5C|d|7C|e"
    assert content_text("é") == "|C3 A9|"


def test_suricata_dataset_files_and_rules() -> None:
    rules = rules_of(render("suricata-dataset", SAMPLE, part="rules"))
    assert len(rules) == 6 and all("dataset:isset,herdsec-" in r["raw"] for r in rules)
    domains = render("suricata-dataset", SAMPLE + HOSTILE_VALUES, part="domains").splitlines()
    assert [base64.b64decode(line).decode() for line in domains] == ["listed.example", "xn--bcngan-jxa6332d.vn"]
    assert render("suricata-dataset", SAMPLE, part="ips").splitlines() == ["91.243.44.12", "2a0d:5600:1::66"]
    agents = render("suricata-dataset", SAMPLE, part="user-agents").splitlines()
    assert base64.b64decode(agents[0]).decode() == "EvilAgent/1.0 (bot)"


def test_zeek_intel_file() -> None:
    lines = render("zeek", [*SAMPLE, value(IocType.DOMAIN, "x.xyz\tINJECT", name="tab\there")]).splitlines()
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 5 for row in rows)
    kinds = {row[0]: row[1] for row in rows}
    assert kinds["listed.example"] == "Intel::DOMAIN" and kinds["91.243.44.12"] == "Intel::ADDR"
    assert kinds["91.243.45.0/24"] == "Intel::SUBNET" and kinds["phish@c2-bad.xyz"] == "Intel::EMAIL"
    assert kinds['c2-bad.xyz/gate.php?id=1&x="|;\\'] == "Intel::URL"  # Zeek wants URLs without the scheme
    assert "Intel::FILE_HASH" in kinds.values() and "x.xyz" not in "".join(kinds)
    assert rows[0][2] == "HerdSec Ngân hàng Nguồn" and "[indicator--" in rows[0][3] and rows[0][4] == "-"


def test_rpz_zone_shape_and_refusals() -> None:
    long_domain = ".".join(["a" * 60] * 4) + ".xyz"  # 248 characters: too long once under the zone
    text = render("rpz", [*SAMPLE, *HOSTILE_VALUES, value(IocType.DOMAIN, long_domain)], serial=1764504000)
    lines = [line for line in text.splitlines() if line and not line.startswith(";")]
    assert lines[0] == "$TTL 300"
    assert "listed.example CNAME ." in lines and "*.listed.example CNAME ." in lines
    assert "*.xn--bcngan-jxa6332d.vn CNAME ." in lines
    assert lines[1].startswith("@ SOA localhost. hostmaster.localhost. 1764504000 ") and lines[2] == "@ NS localhost."
    assert long_domain not in text and "attacker" not in text and '"' not in text
    with pytest.raises(InvalidInput):
        render("rpz", SAMPLE, zone="bad zone;")


def test_hosts_file() -> None:
    lines = render("hosts", SAMPLE + HOSTILE_VALUES).splitlines()
    assert lines[1:] == ["0.0.0.0 listed.example", "0.0.0.0 xn--bcngan-jxa6332d.vn"]


def test_nft_and_ipset() -> None:
    many = [value(IocType.IPV4, f"91.243.{n // 250}.{n % 250 + 1}") for n in range(2100)]
    text = render("nft", SAMPLE + many + [value(IocType.IPV4, "1.2.3.4; flush ruleset")])
    assert "table inet herdsec {" in text and "flags interval" in text and "auto-merge" in text
    adds = [line for line in text.splitlines() if line.startswith("add element")]
    assert len(adds) == 4 and "2a0d:5600:1::66" in adds[-1] and "91.243.45.0/24" in text
    assert "flush ruleset" not in text
    ipset = render("ipset", SAMPLE).splitlines()
    assert ipset[0].startswith("create herdsec-v4 hash:net family inet ")
    assert "add herdsec-v4 91.243.45.0/24 -exist" in ipset and "add herdsec-v6 2a0d:5600:1::66 -exist" in ipset


def test_stix_bundle_streams_objects() -> None:
    fmt = get_format("stix")
    objects = [json.dumps({"type": "indicator", "id": f"indicator--{n}"}) for n in range(3)]
    bundle = json.loads("".join(fmt.parts[0].write(iter(objects), ExportOptions(token="abc"))))
    assert bundle["type"] == "bundle" and [o["id"] for o in bundle["objects"]] == [f"indicator--{n}" for n in range(3)]
    empty = json.loads("".join(fmt.parts[0].write(iter([]), ExportOptions(token="abc"))))
    assert empty["objects"] == [] and empty["id"] == bundle["id"]
