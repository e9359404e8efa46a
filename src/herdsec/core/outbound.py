"""Outbound HTTP that cannot be turned against the hub's own network (SSRF-safe).

Every request the hub makes to a URL someone typed (federation peers, feeds) goes through :func:`request`:

* only ``http`` and ``https``;
* the host is resolved once and **every** address it resolves to is checked: loopback, private (RFC 1918, ULA,
  carrier-grade NAT), link-local (including the cloud metadata address 169.254.169.254), multicast, unspecified,
  reserved and other non-global addresses are refused, also when written as IPv4-mapped, 6to4, Teredo or NAT64
  IPv6 addresses, unless :class:`OutboundPolicy` allows them (``HERDSEC_OUTBOUND_ALLOW``);
* the connection goes to the address that was checked (the URL's host is replaced by it; the ``Host`` header and
  TLS SNI/certificate name stay the original name): no DNS rebinding between the check and the connection;
* redirects are followed by hand, each hop checked the same way, at most ``max_redirects`` of them, GET only;
* connect/read timeouts plus a deadline for the whole exchange, and a cap on the response size;
* no proxy from the environment (it would bypass the checks).

Errors are :class:`OutboundRefused` (the policy said no) and :class:`OutboundFailed` (the remote did not answer
usefully); both carry the URL and the reason.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpx

from herdsec.core.errors import N_, HerdsecError, InvalidInput
from herdsec.core.errors import Text as Reason

if TYPE_CHECKING:
    from herdsec.core.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

KEYWORDS = ("loopback", "private", "link-local")
REDIRECTS = (301, 302, 303, 307, 308)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
CGNAT = ipaddress.ip_network("100.64.0.0/10")
CHUNK = 64 * 1024


class OutboundRefused(InvalidInput):
    """The URL is not one the hub may call (scheme, or an address the policy refuses)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(N_("refused to contact %(url)s: %(reason)s"), where="url", url=_short(url), reason=reason)


class OutboundFailed(HerdsecError):
    """The remote could not be reached, was too slow, answered with an error status or too much data."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url, self.reason, self.status = url, reason, status
        super().__init__(N_("request to %(url)s failed: %(reason)s"), where="url", url=_short(url), reason=reason)


def _short(url: str) -> str:
    return url if len(url) <= 300 else url[:297] + "..."


@cache
def _tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The system's CA store (or ``ca_file``), loaded once: loading it costs more than a request to a nearby peer.
    Certificates are verified against the URL's host name (sent as SNI), never against the pinned address."""
    return ssl.create_default_context(cafile=ca_file)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Which non-public addresses may be reached, and the limits of one exchange."""

    allow_keywords: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    timeout: float = 30.0
    max_bytes: int = 64 * 1024 * 1024
    max_redirects: int = 5
    resolver: Resolver = field(default=system_resolver, compare=False)
    ca_file: str | None = None  # trust these CAs instead of the system's (tests, private PKI)

    @classmethod
    def parse(cls, allow: str, **limits: object) -> OutboundPolicy:
        """``allow`` is comma-separated keywords (``loopback``, ``private``, ``link-local``) and networks (CIDR)."""
        keywords: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in allow.split(","):
            item = raw.strip().lower()
            if not item:
                continue
            if item in KEYWORDS:
                keywords.add(item)
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise InvalidInput(
                    N_("outbound allowance %(item)r is neither a network nor one of: %(keywords)s"),
                    where="outbound_allow",
                    item=item,
                    keywords=", ".join(KEYWORDS),
                ) from None
        return cls(frozenset(keywords), tuple(networks), **limits)  # type: ignore[arg-type]

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        return cls.parse(
            settings.outbound_allow,
            timeout=float(settings.outbound_timeout),
            max_bytes=settings.outbound_max_bytes,
        )


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    if addr in NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def address_category(addr: IPAddress) -> str | None:
    """Why an address is not public (``loopback``, ``private``, ``link-local``, ``multicast``, ``unspecified``,
    ``reserved``, ``not globally routable``), or None for a public address."""
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_v4(addr)
        if inner is not None:
            return address_category(inner)
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast:
        return "multicast"
    if addr.is_reserved:
        return "reserved"
    if addr.is_private or addr in CGNAT or (isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local):
        return "private"
    if not addr.is_global:
        return "not globally routable"
    return None


def refusal(addr: IPAddress, policy: OutboundPolicy) -> str | None:
    """The reason ``policy`` refuses ``addr``, or None when it may be contacted."""
    category = address_category(addr)
    if category is None:
        return None
    if category in ("multicast", "unspecified"):
        return Reason(N_("%(address)s is a %(category)s address"), address=str(addr), category=category)
    plain = _embedded_v4(addr) if isinstance(addr, ipaddress.IPv6Address) else None
    candidates = [addr] if plain is None else [addr, plain]
    if category in policy.allow_keywords or any(
        c.version == n.version and c in n for c in candidates for n in policy.allow_networks
    ):
        return None
    return Reason(
        N_("%(address)s is a %(category)s address (allow it with HERDSEC_OUTBOUND_ALLOW)"),
        address=str(addr),
        category=category,
    )


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect (the pinned address) and what to call the host."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> httpx.URL:
        return httpx.URL(self.url).copy_with(host=self.address)

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def _too_slow(policy: OutboundPolicy) -> Reason:
    return Reason(N_("no answer within %(seconds)g seconds"), seconds=policy.timeout)


def check_url(url: str, policy: OutboundPolicy) -> Target:
    """Parse, resolve and check ``url``; refuse it when any address it resolves to is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(url, Reason(N_("not a valid URL (%(problem)s)"), problem=str(exc))) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundRefused(
            url, Reason(N_("only http and https URLs are allowed, not %(scheme)r"), scheme=scheme or "no scheme")
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundRefused(url, Reason(N_("the URL has no host")))
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused(url, Reason(N_("credentials in the URL are not allowed; give them separately")))
    port = port or (443 if scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = policy.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise OutboundFailed(
                url, Reason(N_("cannot resolve %(host)s: %(problem)s"), host=host, problem=str(exc))
            ) from None
        if not addresses:
            raise OutboundFailed(url, Reason(N_("%(host)s resolves to no address"), host=host))
    for text in addresses:
        reason = refusal(ipaddress.ip_address(text.split("%", 1)[0]), policy)
        if reason is not None:
            raise OutboundRefused(
                url,
                reason
                if literal is not None
                else Reason(N_("%(host)s resolves to %(reason)s"), host=host, reason=reason),
            )
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0].split("%", 1)[0])


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str  # the final URL, after redirects


def origin_of(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.scheme.lower(), parts.hostname, port)


def _read_capped(response: httpx.Response, url: str, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise OutboundFailed(url, Reason(N_("the response is larger than %(max)d bytes"), max=max_bytes))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise OutboundFailed(url, Reason(N_("the response is larger than %(max)d bytes"), max=max_bytes))
        if time.monotonic() > deadline:
            raise OutboundFailed(url, Reason(N_("the response took too long")))
        chunks.append(chunk)
    return b"".join(chunks)


def request(
    method: str,
    url: str,
    *,
    policy: OutboundPolicy,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    ok_statuses: Iterable[int] = range(200, 300),
) -> OutboundResponse:
    """Make one HTTP exchange under ``policy`` (see the module notes); non-``ok_statuses`` raise OutboundFailed.
    An ``Authorization`` header is dropped when a redirect leaves the URL's origin."""
    method = method.upper()
    deadline = time.monotonic() + policy.timeout
    ok = set(ok_statuses)
    timeout = httpx.Timeout(policy.timeout)
    origin = origin_of(url)
    with httpx.Client(
        timeout=timeout, trust_env=False, follow_redirects=False, verify=_tls_context(policy.ca_file)
    ) as client:
        for _hop in range(policy.max_redirects + 1):
            target = check_url(url, policy)
            sent = {k: v for k, v in (headers or {}).items() if k.lower() not in ("host", "authorization")}
            if origin_of(url) == origin:
                sent.update({k: v for k, v in (headers or {}).items() if k.lower() == "authorization"})
            sent["Host"] = target.host_header
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            built = client.build_request(method, target.pinned_url, headers=sent, content=body, extensions=extensions)
            try:
                response = client.send(built, stream=True)
            except httpx.TimeoutException:
                raise OutboundFailed(
                    url, Reason(N_("no answer within %(seconds)g seconds"), seconds=policy.timeout)
                ) from None
            except httpx.HTTPError as exc:
                raise OutboundFailed(url, f"{type(exc).__name__}: {exc}") from None
            try:
                if response.status_code in REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise OutboundFailed(url, Reason(N_("a redirect without a Location")), response.status_code)
                    if method != "GET":
                        raise OutboundFailed(
                            url,
                            Reason(
                                N_("redirected (%(status)d) on %(method)s"), status=response.status_code, method=method
                            ),
                        )
                    url = urljoin(url, location)
                    continue
                try:
                    data = _read_capped(response, url, policy.max_bytes, deadline)
                except httpx.TimeoutException:
                    raise OutboundFailed(
                        url, Reason(N_("no answer within %(seconds)g seconds"), seconds=policy.timeout)
                    ) from None
                except httpx.HTTPError as exc:
                    raise OutboundFailed(url, f"{type(exc).__name__}: {exc}") from None
            finally:
                response.close()
            if response.status_code not in ok:
                raise OutboundFailed(
                    url, Reason(N_("HTTP status %(status)d"), status=response.status_code), response.status_code
                )
            return OutboundResponse(response.status_code, dict(response.headers), data, url)
    raise OutboundFailed(url, Reason(N_("more than %(count)d redirects"), count=policy.max_redirects))


def fetch_bytes(
    url: str,
    *,
    settings: Settings | None = None,
    allow: str | None = None,
    policy: OutboundPolicy | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> bytes:
    """GET ``url`` and return the body: the ``fetch: Callable[[str], bytes]`` shape feed pullers take (bind the
    keyword arguments with ``functools.partial``). The policy comes from ``policy``, else ``settings``, else
    ``allow`` (an ``HERDSEC_OUTBOUND_ALLOW``-style string), else refuses every non-public address."""
    if policy is None:
        policy = OutboundPolicy.from_settings(settings) if settings is not None else OutboundPolicy.parse(allow or "")
    if timeout is not None:
        policy = replace(policy, timeout=timeout)
    return request("GET", url, policy=policy, headers=headers).body
