"""Realistic mixed logs with planted hits, near-miss decoys and the planted truth; indicator sets of any size.

Files: nginx combined, BIND query log, Zeek dns.log and http.log (TSV), Suricata eve.json, syslog firewall lines.
Background names and addresses come from pools that share nothing with the indicators (checked), so the only
matches are the planted ones. Each planted line holds one indicator in a form the exact rules must match (a
subdomain, upper case, expanded IPv6, an address inside a listed network, a URL with another scheme and the default
port written, an upper-case hash); each decoy line holds a near miss that they must not (``notevil.com``,
``evil.com.attacker.net``, ``10.1.1.10`` for ``10.1.1.1``, a hash inside a longer hex run, another path on a listed
URL's host, ``xbob@…`` for ``bob@…``).
"""

from __future__ import annotations

import ipaddress
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TLDS = ["com", "net", "org", "info", "xyz", "top", "vn", "ru", "biz", "io"]
WORDS = [
    "news",
    "shop",
    "bank",
    "cloud",
    "mail",
    "static",
    "cdn",
    "api",
    "img",
    "video",
    "learn",
    "gov",
    "edu",
    "sport",
    "travel",
    "music",
    "game",
    "photo",
    "store",
    "home",
    "market",
    "health",
    "food",
    "book",
    "auto",
    "car",
    "house",
    "job",
    "school",
    "city",
]
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "curl/8.4.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
]
BACKGROUND_FIRST_OCTETS = [8, 13, 23, 31, 142, 151, 172, 185, 203]  # indicators use 45-110
PLANT_EVERY = 400  # one planted hit per this many lines
DECOY_EVERY = 400  # one near-miss decoy per this many lines
NO_URLS = frozenset({"bind", "zeek-dns"})


@dataclass
class Indicators:
    domains: list[str] = field(default_factory=list)
    ipv4: list[str] = field(default_factory=list)
    ipv6: list[str] = field(default_factory=list)
    cidrs: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.domains + self.ipv4 + self.ipv6 + self.cidrs + self.urls + self.hashes + self.emails


def _label(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(9, 13)))


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def make_indicators(rng: random.Random, count: int) -> Indicators:
    """``count`` indicators: 40% domains, 25% IPv4, 20% hashes, 5% URLs, 4% e-mails, 3% IPv6, 3% networks.
    Indicator addresses live in 45.0.0.0/8–99.0.0.0/8; background addresses elsewhere."""
    found = Indicators()
    for _ in range(int(count * 0.40)):
        found.domains.append(f"{_label(rng)}.{rng.choice(TLDS)}")
    for _ in range(int(count * 0.25)):
        found.ipv4.append(f"{rng.randint(45, 99)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
    for _ in range(int(count * 0.20)):
        found.hashes.append(_hex(rng, rng.choice((32, 40, 64))))
    for _ in range(int(count * 0.05)):
        found.urls.append(
            f"http://{_label(rng)}.{rng.choice(TLDS)}/{_label(rng)}/{_label(rng)}.php?id={rng.randint(1, 9999)}"
        )
    for _ in range(int(count * 0.04)):
        found.emails.append(f"{_label(rng)}@{_label(rng)}.{rng.choice(TLDS)}")
    for _ in range(int(count * 0.03)):
        found.ipv6.append(str(ipaddress.IPv6Address((0x2A10 << 112) | rng.getrandbits(100))))
    for _ in range(count - len(found.all())):
        found.cidrs.append(f"{rng.randint(100, 110)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24")
    return found


class Background:
    """Benign names and addresses (disjoint from every indicator by construction)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.domains = [f"{rng.choice(WORDS)}{rng.choice(WORDS)}.{rng.choice(TLDS)}" for _ in range(3000)]
        self.hosts = [f"{rng.choice(['www', 'm', 'api', 'cdn'])}.{d}" for d in self.domains] + self.domains
        self.public = [
            f"{rng.choice(BACKGROUND_FIRST_OCTETS)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            for _ in range(5000)
        ]
        self.internal = [f"10.{rng.randint(0, 20)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(2000)]

    def host(self) -> str:
        return self.rng.choice(self.hosts)

    def public_ip(self) -> str:
        return self.rng.choice(self.public)

    def internal_ip(self) -> str:
        return self.rng.choice(self.internal)

    def path(self) -> str:
        return f"/{self.rng.choice(WORDS)}/{self.rng.randint(1, 99999)}.html"


@dataclass
class Plant:
    """What goes on a planted or decoy line: a host, an address, a URL (host + path), or free text."""

    host: str | None = None
    ip: str | None = None
    url: tuple[str, str] | None = None
    text: str | None = None
    truth: tuple[str, str] | None = None  # (type, indicator) that must match, None for a decoy


def planted(rng: random.Random, chosen: Indicators) -> Plant:
    kind = rng.choice(["domain", "subdomain", "ipv4", "ipv6", "cidr", "url", "hash", "email"])
    if kind in ("domain", "subdomain"):
        domain = rng.choice(chosen.domains)
        host = domain if kind == "domain" else f"{rng.choice(['www', 'login', 'a.b'])}.{domain}"
        return Plant(host=host.upper() if rng.random() < 0.2 else host, truth=("domain", domain))
    if kind == "ipv4":
        ip = rng.choice(chosen.ipv4)
        return Plant(ip=ip, truth=("ipv4", ip))
    if kind == "ipv6":
        ip = rng.choice(chosen.ipv6)
        return Plant(ip=ipaddress.IPv6Address(ip).exploded if rng.random() < 0.5 else ip, truth=("ipv6", ip))
    if kind == "cidr":
        network = rng.choice(chosen.cidrs)
        return Plant(ip=network.replace(".0/24", f".{rng.randint(1, 254)}"), truth=("cidr", network))
    if kind == "url":
        url = rng.choice(chosen.urls)
        rest = url.split("://", 1)[1]
        host, _, path = rest.partition("/")
        return Plant(url=(host.upper() if rng.random() < 0.3 else host, "/" + path), truth=("url", url))
    if kind == "hash":
        value = rng.choice(chosen.hashes)
        return Plant(text=value.upper() if rng.random() < 0.5 else value, truth=(_hash_type(value), value))
    email = rng.choice(chosen.emails)
    return Plant(text=email, truth=("email", email))


def decoy(rng: random.Random, chosen: Indicators, listed: set[str]) -> Plant:
    """A near miss (checked against every listed value)."""
    while True:
        plant = _decoy(rng, chosen)
        if not {plant.host, plant.ip, plant.text} & listed:
            return plant


def _decoy(rng: random.Random, chosen: Indicators) -> Plant:
    kind = rng.choice(["prefix", "parent", "ipv4", "hash", "url", "email"])
    if kind == "prefix":
        return Plant(host="not" + rng.choice(chosen.domains))
    if kind == "parent":
        return Plant(host=rng.choice(chosen.domains) + ".attacker.net")
    if kind == "ipv4":
        ip = rng.choice(chosen.ipv4)
        last = ip.rsplit(".", 1)[1]
        return Plant(ip=ip + "0" if len(last) < 3 and int(last + "0") < 256 else "1" + ip)
    if kind == "hash":
        return Plant(text=_hex(rng, 2) + rng.choice(chosen.hashes))
    if kind == "url":
        url = rng.choice(chosen.urls)
        host, _, path = url.split("://", 1)[1].partition("/")
        return Plant(url=(host + ".attacker.net", "/" + path)) if rng.random() < 0.5 else Plant(url=(host, "/x" + path))
    return Plant(text="x" + rng.choice(chosen.emails))


def _hash_type(value: str) -> str:
    return {32: "md5", 40: "sha1", 64: "sha256"}[len(value)]


# --- line writers: one per format; each takes a Plant (or an empty one) ----------------------------------------

Stamp = tuple[int, int, int, int]  # day, hour, minute, second


def nginx(bg: Background, p: Plant, t: Stamp) -> str:
    ip = p.ip or bg.public_ip()
    day, hour, minute, second = t
    path = bg.path()
    if p.text:
        path = f"/download?file={p.text}" if "@" not in p.text else f"/contact?from={p.text}"
    referer = f"https://{p.host or bg.host()}{bg.path()}"
    if p.url:
        referer = f"https://{p.url[0]}:443{p.url[1]}"
    return (
        f'{ip} - - [{day:02d}/Nov/2026:{hour:02d}:{minute:02d}:{second:02d} +0700] "GET {path} HTTP/1.1" 200 '
        f'{bg.rng.randint(100, 90000)} "{referer}" "{bg.rng.choice(UAS)}"'
    )


def bind(bg: Background, p: Plant, t: Stamp) -> str:
    day, hour, minute, second = t
    name = p.host or (p.url[0] if p.url else None) or bg.host()
    client = p.ip or bg.internal_ip()
    text = f" ; note {p.text}" if p.text else ""
    return (
        f"{day:02d}-Nov-2026 {hour:02d}:{minute:02d}:{second:02d}.{bg.rng.randint(0, 999):03d} client "
        f"@0x7f3a{bg.rng.randint(1000, 9999)} {client}#{bg.rng.randint(1024, 65535)} ({name}): query: {name} IN "
        f"{bg.rng.choice(['A', 'AAAA', 'HTTPS'])} +E(0)K (10.0.0.53){text}"
    )


def zeek_dns(bg: Background, p: Plant, t: Stamp) -> str:
    ts = 1796000000 + t[0] * 86400 + t[1] * 3600 + t[2] * 60 + t[3]
    name = p.host or (p.url[0] if p.url else None) or bg.host()
    answer = p.ip or bg.public_ip()
    cells = [
        f"{ts}.{bg.rng.randint(0, 999999):06d}",
        f"C{_hex(bg.rng, 17)}",
        bg.internal_ip(),
        str(bg.rng.randint(1024, 65535)),
        "10.0.0.53",
        "53",
        "udp",
        str(bg.rng.randint(1, 65535)),
        name,
        "1",
        "C_INTERNET",
        "1",
        "A",
        "0",
        "NOERROR",
        f"{answer},{p.text}" if p.text else answer,
    ]
    return "\t".join(cells)


ZEEK_DNS_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tqclass\tqclass_name\t"
    "qtype\tqtype_name\trcode\trcode_name\tanswers\n"
)
ZEEK_HTTP_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\tuser_agent\tstatus_code\n"
)


def zeek_http(bg: Background, p: Plant, t: Stamp) -> str:
    ts = 1796000000 + t[0] * 86400 + t[1] * 3600 + t[2] * 60 + t[3]
    host, uri = p.url if p.url else (p.host or bg.host(), bg.path())
    if p.text:
        uri = f"/get?h={p.text}"
    cells = [
        f"{ts}.{bg.rng.randint(0, 999999):06d}",
        f"C{_hex(bg.rng, 17)}",
        bg.internal_ip(),
        str(bg.rng.randint(1024, 65535)),
        p.ip or bg.public_ip(),
        "80",
        "GET",
        host,
        uri,
        bg.rng.choice(UAS),
        "200",
    ]
    return "\t".join(cells)


def eve(bg: Background, p: Plant, t: Stamp) -> str:
    day, hour, minute, second = t
    record: dict[str, object] = {
        "timestamp": f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{bg.rng.randint(0, 999999):06d}+0700",
        "flow_id": bg.rng.getrandbits(50),
        "in_iface": "eth0",
        "src_ip": bg.internal_ip(),
        "src_port": bg.rng.randint(1024, 65535),
        "dest_ip": p.ip or bg.public_ip(),
        "dest_port": 80,
        "proto": "TCP",
    }
    if p.url or bg.rng.random() < 0.5:
        host, url = p.url or (p.host or bg.host(), bg.path())
        record |= {
            "event_type": "http",
            "http": {
                "hostname": host,
                "url": url,
                "http_user_agent": bg.rng.choice(UAS),
                "http_method": "GET",
                "status": 200,
                "length": bg.rng.randint(1, 9999),
            },
        }
    else:
        record |= {
            "event_type": "dns",
            "dns": {
                "type": "query",
                "id": bg.rng.randint(1, 65535),
                "rrname": p.host or bg.host(),
                "rrtype": "A",
                "tx_id": 0,
            },
        }
    if p.text:
        record |= {"event_type": "fileinfo", "fileinfo": {"filename": "/a.exe", "md5": p.text, "size": 1024}}
    return json.dumps(record)


def firewall(bg: Background, p: Plant, t: Stamp) -> str:
    day, hour, minute, second = t
    extra = f" HOST={p.host}" if p.host else (f" URL=http://{p.url[0]}{p.url[1]}" if p.url else "")
    extra += f" MSG={p.text}" if p.text else ""
    return (
        f"Nov {day:2d} {hour:02d}:{minute:02d}:{second:02d} fw01 kernel: [UFW BLOCK] IN=eth0 OUT= "
        f"MAC=00:16:3e:{bg.rng.randint(10, 99)}:00:01 SRC={p.ip or bg.public_ip()} DST={bg.internal_ip()} LEN=60 "
        f"TOS=0x00 PROTO=TCP SPT={bg.rng.randint(1024, 65535)} DPT={bg.rng.choice([22, 23, 445, 3389])}{extra}"
    )


FORMATS: dict[str, tuple[str, str, Callable[[Background, Plant, Stamp], str]]] = {
    "nginx": ("access.log", "", nginx),
    "bind": ("query.log", "", bind),
    "zeek-dns": ("dns.log", ZEEK_DNS_HEADER, zeek_dns),
    "zeek-http": ("http.log", ZEEK_HTTP_HEADER, zeek_http),
    "eve": ("eve.json", "", eve),
    "firewall": ("firewall.log", "", firewall),
}


def write_logs(
    directory: Path, total_bytes: int, chosen: Indicators, seed: int = 7
) -> dict[tuple[str, int], set[tuple[str, str]]]:
    """Write one file per format (``total_bytes`` in all); return the truth: (file, line) → {(type, indicator)}."""
    rng = random.Random(seed)
    bg = Background(rng)
    truth: dict[tuple[str, int], set[tuple[str, str]]] = {}
    per_file = total_bytes // len(FORMATS)
    empty = Plant()
    listed = set(chosen.all())
    for name, (file_name, header, writer) in FORMATS.items():
        path = directory / file_name
        written, number = 0, header.count("\n")
        with path.open("w", encoding="utf-8") as handle:
            handle.write(header)
            batch: list[str] = []
            while written < per_file:
                number += 1
                stamp = (1 + number // 200000 % 28, number // 8000 % 24, number // 130 % 60, number // 2 % 60)
                roll = rng.random() * PLANT_EVERY / 50 if number % 50 == 0 else 9.0
                if roll < 1:
                    plant = planted(rng, chosen)
                    if name in NO_URLS and plant.url:
                        plant = Plant(host=plant.url[0])  # a DNS log has no URL: the host alone is no match
                    line = writer(bg, plant, stamp)
                    if plant.truth is not None:
                        truth[(str(path), number)] = {plant.truth}
                elif roll < 1 + PLANT_EVERY / DECOY_EVERY:
                    line = writer(bg, decoy(rng, chosen, listed), stamp)
                else:
                    line = writer(bg, empty, stamp)
                batch.append(line)
                written += len(line) + 1
                if len(batch) >= 10000:
                    handle.write("\n".join(batch) + "\n")
                    batch.clear()
            if batch:
                handle.write("\n".join(batch) + "\n")
    return truth


def write_indicators(path: Path, indicators: list[str]) -> None:
    path.write_text("\n".join(indicators) + "\n", encoding="utf-8")
