"""Every log format: detected from realistic lines, its timestamps read, URLs rebuilt from fields where the format
splits them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from herdsec.scan import readers
from tests.scan.helpers import compile_lines, hits

NGINX = (
    '203.0.113.7 - - [01/Dec/2026:06:12:33 +0700] "GET /a?b=c HTTP/1.1" 200 512 "https://ref.example/" "Mozilla/5.0"'
)
COMMON = '203.0.113.7 - frank [10/Oct/2026:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326'
SQUID = (
    "1796112753.123    120 10.0.0.5 TCP_MISS/200 1532 GET http://evil.example/x.exe - HIER_DIRECT/203.0.113.9 text/html"
)
BIND = (
    "01-Dec-2026 06:12:33.123 client @0x7f0a2c 10.0.0.5#53211 (evil.example): query: evil.example IN A +E(0)K "
    "(10.0.0.1)"
)
DNSMASQ = "Dec  1 06:12:33 gw dnsmasq[812]: query[A] evil.example from 10.0.0.5"
ZEEK_HTTP = (
    "#separator \\x09\n#set_separator\t,\n#path\thttp\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\tuser_agent\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\n"
    "1796112753.500000\tCk3b1\t10.0.0.5\t51000\t203.0.113.9\t8080\tGET\tEvil.example\t/p/x.php?id=7\tcurl/8\n"
)
ZEEK_JSON = json.dumps(
    {
        "ts": 1796112753.5,
        "uid": "Ck3b1",
        "id.orig_h": "10.0.0.5",
        "id.resp_p": 80,
        "host": "evil.example",
        "uri": "/p/x.php?id=7",
        "method": "GET",
    }
)
EVE = json.dumps(
    {
        "timestamp": "2026-12-01T06:12:33.123456+0700",
        "event_type": "http",
        "src_ip": "10.0.0.5",
        "dest_ip": "203.0.113.9",
        "http": {"hostname": "evil.example", "url": "/p/x.php?id=7", "http_port": 8080},
    }
)
SYSMON = json.dumps(
    {
        "EventID": 22,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventData": {"UtcTime": "2026-12-01 06:12:33.123", "QueryName": "evil.example", "Image": "C:\\x\\a.exe"},
    }
)
GENERIC = json.dumps({"@timestamp": "2026-12-01T06:12:33Z", "msg": {"peer": "evil.example"}, "n": 5})
CSV = "time,src,dst,action\n2026-12-01T06:12:33Z,10.0.0.5,evil.example,deny\n"
SYSLOG = "Dec  1 06:12:33 fw01 kernel: [UFW BLOCK] IN=eth0 SRC=203.0.113.9 DST=10.0.0.5 PROTO=TCP DPT=445"
CEF = (
    "<134>Dec  1 06:12:33 fw CEF:0|Fortinet|FortiGate|7.0|13|traffic|3|src=10.0.0.5 dst=203.0.113.9 "
    "dhost=evil.example rt=1796112753000"
)
PLAIN = "2026-12-01T06:12:33+07:00 app: contacted evil.example"

CASES = [
    (NGINX + "\n", "combined", datetime(2026, 12, 1, 6, 12, 33, tzinfo=timezone(timedelta(hours=7)))),
    (COMMON + "\n", "common", datetime(2026, 10, 10, 13, 55, 36, tzinfo=timezone(timedelta(hours=-7)))),
    (SQUID + "\n", "squid", datetime.fromtimestamp(1796112753.123, UTC)),
    (BIND + "\n", "bind", datetime(2026, 12, 1, 6, 12, 33, 123000, tzinfo=UTC)),
    (DNSMASQ + "\n", "dnsmasq", None),
    (ZEEK_HTTP, "zeek", datetime.fromtimestamp(1796112753.5, UTC)),
    (ZEEK_JSON + "\n", "zeek-json", datetime.fromtimestamp(1796112753.5, UTC)),
    (EVE + "\n", "eve", datetime(2026, 12, 1, 6, 12, 33, 123456, tzinfo=timezone(timedelta(hours=7)))),
    (SYSMON + "\n", "sysmon", datetime(2026, 12, 1, 6, 12, 33, 123000, tzinfo=UTC)),
    (GENERIC + "\n", "json", datetime(2026, 12, 1, 6, 12, 33, tzinfo=UTC)),
    (CSV, "csv", datetime(2026, 12, 1, 6, 12, 33, tzinfo=UTC)),
    (SYSLOG + "\n", "syslog", None),
    (CEF + "\n", "syslog", None),
    (PLAIN + "\n", "plain", datetime(2026, 12, 1, 6, 12, 33, tzinfo=timezone(timedelta(hours=7)))),
]


@pytest.mark.parametrize(("text", "name", "stamp"), CASES, ids=[case[1] + str(i) for i, case in enumerate(CASES)])
def test_detection_and_timestamps(text: str, name: str, stamp: datetime | None) -> None:
    lines = text.splitlines()
    reader = readers.detect(lines)
    assert reader.name == name
    data_line = next(line for line in reversed(lines) if not line.startswith("#"))
    found = reader.timestamp(data_line)
    if stamp is None:  # syslog without a year: this year (or last), the time of day as written
        assert found is not None and (found.month, found.day, found.hour, found.minute) == (12, 1, 6, 12)
    else:
        assert found == stamp


@pytest.mark.parametrize("text", [ZEEK_HTTP, EVE + "\n"])
def test_urls_rebuilt_from_split_fields(text: str) -> None:
    matcher = compile_lines("http://evil.example:8080/p/x.php?id=7")
    reader = readers.detect(text.splitlines())
    found = hits(matcher, text.encode(), reader)
    assert ("url", "http://evil.example:8080/p/x.php?id=7") in {(kind, indicator) for _l, kind, indicator, _o in found}


def test_zeek_json_url_on_the_default_port() -> None:
    matcher = compile_lines("evil.example/p/x.php?id=7")
    found = hits(matcher, (ZEEK_JSON + "\n").encode(), readers.detect([ZEEK_JSON]))
    assert [kind for _l, kind, _i, _o in found] == ["url"]


def test_a_named_format_skips_detection() -> None:
    assert readers.named("plain", [NGINX]).name == "plain"
    with pytest.raises(Exception, match="unknown log format"):
        readers.named("nope", [])
