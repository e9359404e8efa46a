"""SSRF-safe outbound HTTP: schemes, refused addresses (also hidden in IPv6 forms, DNS answers and redirects),
pinning to the checked address, timeouts, size caps and credentials that never follow a redirect elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from herdsec.core.errors import ConfigError, InvalidInput
from herdsec.core.outbound import (
    OutboundFailed,
    OutboundPolicy,
    OutboundRefused,
    check_url,
    fetch_bytes,
    request,
)
from herdsec.core.settings import load_settings
from tests.federation.servers import echo_headers, hang, redirect_to, reply, self_signed, serving, serving_tls

LOCAL = OutboundPolicy.parse("loopback", timeout=2.0)
ONLY_127_0_0_1 = OutboundPolicy.parse("127.0.0.1/32", timeout=2.0)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.8.9.10:8080/x", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),
        ("http://[2002:a9fe:a9fe::1]/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://100.64.0.1/", "private"),
        ("http://[fd00::1]/", "private"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
    ],
)
def test_non_public_addresses_are_refused_without_an_allowance(url: str, why: str) -> None:
    with pytest.raises(OutboundRefused) as caught:
        check_url(url, OutboundPolicy())
    assert why in caught.value.reason
    assert caught.value.url == url


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://example.org/", "dict://x/", "//host/"]
)
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(OutboundRefused, match="only http and https"):
        check_url(url, LOCAL)


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(OutboundRefused, match="credentials"):
        check_url("http://user:pw@93.184.216.34/", OutboundPolicy())


def test_a_public_address_passes() -> None:
    target = check_url("https://93.184.216.34/taxii2/", OutboundPolicy())
    assert target.address == "93.184.216.34"
    assert target.port == 443


def test_the_metadata_address_stays_refused_when_loopback_is_allowed() -> None:
    with pytest.raises(OutboundRefused, match="link-local"):
        check_url("http://169.254.169.254/", LOCAL)


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f.1/", "http://localhost/"])
def test_loopback_in_disguise_is_refused(url: str) -> None:
    with pytest.raises(OutboundRefused, match="loopback"):
        check_url(url, OutboundPolicy())


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    policy = OutboundPolicy(resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(OutboundRefused, match=r"evil\.example resolves to 10\.0\.0\.5 is a private"):
        check_url("http://evil.example/", policy)


def test_allowances_parse_and_bad_ones_are_reported() -> None:
    policy = OutboundPolicy.parse(" loopback, 10.0.0.0/8 ,fd00::/8")
    assert policy.allow_keywords == {"loopback"}
    assert len(policy.allow_networks) == 2
    check_url("http://10.2.3.4/", policy)
    check_url("http://[::ffff:10.2.3.4]/", policy)
    with pytest.raises(InvalidInput, match="neither a network"):
        OutboundPolicy.parse("loopback,intranet")


def test_a_bad_allowance_is_a_settings_error() -> None:
    with pytest.raises(ConfigError, match="neither a network"):
        load_settings(outbound_allow="loopback,everything")


def test_settings_carry_the_allowance() -> None:
    settings = load_settings(outbound_allow="loopback", outbound_timeout=3)
    policy = OutboundPolicy.from_settings(settings)
    assert policy.allow_keywords == {"loopback"} and policy.timeout == 3.0
    with pytest.raises(OutboundRefused):
        check_url("http://127.0.0.1/", OutboundPolicy.from_settings(load_settings()))


def test_fetch_bytes_refuses_loopback_without_allowance_and_reads_with_it() -> None:
    with serving({"/x": lambda h, q: reply(h, 200, b"hello")}) as server:
        with pytest.raises(OutboundRefused):
            fetch_bytes(f"{server.url}/x")
        assert fetch_bytes(f"{server.url}/x", allow="loopback") == b"hello"
        assert fetch_bytes(f"{server.url}/x", settings=load_settings(outbound_allow="127.0.0.0/8")) == b"hello"


def test_the_connection_goes_to_the_checked_address() -> None:
    """The name never resolves through DNS here: the request can only have reached the pinned address."""
    with serving({"/h": echo_headers}) as server:
        calls: list[str] = []

        def resolver(host: str, port: int) -> list[str]:
            calls.append(host)
            return ["127.0.0.1"]

        policy = OutboundPolicy.parse("loopback", timeout=2.0)
        policy = OutboundPolicy(policy.allow_keywords, resolver=resolver, timeout=2.0)
        response = request("GET", f"http://pinned.invalid:{server.port}/h", policy=policy)
        assert calls == ["pinned.invalid"]
        assert b'"Host": "pinned.invalid:' in response.body


def test_a_redirect_to_the_metadata_address_is_refused() -> None:
    with serving({"/r": redirect_to("http://169.254.169.254/latest/meta-data/")}) as server:
        with pytest.raises(OutboundRefused, match=r"169\.254\.169\.254"):
            request("GET", f"{server.url}/r", policy=LOCAL)
        assert len(server.requests) == 1


def test_a_redirect_outside_a_scoped_allowance_is_refused() -> None:
    with serving({"/r": redirect_to("http://127.0.0.2:9/"), "/f": redirect_to("file:///etc/passwd")}) as server:
        with pytest.raises(OutboundRefused, match=r"127\.0\.0\.2"):
            request("GET", f"{server.url}/r", policy=ONLY_127_0_0_1)
        with pytest.raises(OutboundRefused, match="only http and https"):
            request("GET", f"{server.url}/f", policy=ONLY_127_0_0_1)


def test_redirects_are_followed_with_a_hop_limit() -> None:
    with serving(
        {"/a": redirect_to("/b"), "/b": lambda h, q: reply(h, 200, b"done"), "/loop": redirect_to("/loop")}
    ) as s:
        assert request("GET", f"{s.url}/a", policy=LOCAL).body == b"done"
        with pytest.raises(OutboundFailed, match="more than 5 redirects"):
            request("GET", f"{s.url}/loop", policy=LOCAL)


def test_a_post_is_not_redirected() -> None:
    with serving({"/r": redirect_to("/b", 307)}) as server, pytest.raises(OutboundFailed, match="redirected"):
        request("POST", f"{server.url}/r", policy=LOCAL, body=b"{}")


def test_credentials_are_not_sent_across_origins_on_redirect() -> None:
    with (
        serving({"/h": echo_headers}) as other,
        serving({"/r": redirect_to(f"{other.url}/h"), "/h": echo_headers}) as first,
    ):
        response = request("GET", f"{first.url}/r", policy=LOCAL, headers={"Authorization": "Bearer secret"})
        assert b"secret" not in response.body
        same = request("GET", f"{first.url}/h", policy=LOCAL, headers={"Authorization": "Bearer secret"})
        assert b"Bearer secret" in same.body


def test_a_server_that_hangs_times_out() -> None:
    with serving({"/slow": hang(3.0)}) as server:
        policy = OutboundPolicy.parse("loopback", timeout=0.5)
        with pytest.raises(OutboundFailed, match=r"no answer within 0\.5 seconds"):
            request("GET", f"{server.url}/slow", policy=policy)


def test_responses_over_the_cap_are_refused() -> None:
    with serving({"/big": lambda h, q: reply(h, 200, b"x" * 5000)}) as server:
        policy = OutboundPolicy.parse("loopback", max_bytes=4096)
        with pytest.raises(OutboundFailed, match="larger than 4096 bytes"):
            request("GET", f"{server.url}/big", policy=policy)


def test_error_statuses_are_reported() -> None:
    with serving({}) as server:
        with pytest.raises(OutboundFailed, match="HTTP status 404") as caught:
            request("GET", f"{server.url}/missing", policy=LOCAL)
        assert caught.value.status == 404


def test_proxies_from_the_environment_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with serving({"/x": lambda h, q: reply(h, 200, b"direct")}) as server:
        assert request("GET", f"{server.url}/x", policy=LOCAL).body == b"direct"


def test_an_unresolvable_name_is_a_failure_not_a_crash() -> None:
    with pytest.raises(OutboundFailed, match="cannot resolve"):
        check_url("http://no-such-host.invalid/", OutboundPolicy())


def test_tls_is_verified_against_the_name_while_connecting_to_the_pinned_address(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "peer.hub.test")
    with serving_tls({"/h": echo_headers}, cert, key) as server:
        policy = OutboundPolicy(
            frozenset({"loopback"}), resolver=lambda host, port: ["127.0.0.1"], timeout=3.0, ca_file=cert
        )
        response = request("GET", f"https://peer.hub.test:{server.port}/h", policy=policy)
        assert b'"Host": "peer.hub.test:' in response.body
        with pytest.raises(OutboundFailed, match="ConnectError"):  # the certificate does not name the address
            request("GET", f"https://127.0.0.1:{server.port}/h", policy=policy)
        with pytest.raises(OutboundFailed, match="ConnectError"):  # and the system CAs do not trust it
            request("GET", f"https://peer.hub.test:{server.port}/h", policy=OutboundPolicy(
                frozenset({"loopback"}), resolver=lambda host, port: ["127.0.0.1"], timeout=3.0))  # fmt: skip


def test_refusal_reasons_are_shown_in_the_readers_language() -> None:
    from herdsec.core.i18n import gettext, using_language

    with pytest.raises(OutboundRefused) as caught:
        check_url("http://[::ffff:169.254.169.254]/", OutboundPolicy())
    assert "link-local address (allow it with HERDSEC_OUTBOUND_ALLOW)" in caught.value.render()
    with using_language("vi"):
        shown = caught.value.render(gettext)
    assert shown.startswith("url: ") and "cho phép bằng HERDSEC_OUTBOUND_ALLOW" in shown
    with pytest.raises(OutboundRefused) as scheme:
        check_url("file:///etc/passwd", LOCAL)
    with using_language("vi"):
        assert "chỉ cho phép URL http và https" in scheme.value.render(gettext)
