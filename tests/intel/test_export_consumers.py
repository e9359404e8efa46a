"""Detection exports read by their real consumers: BIND loads the RPZ zone and answers NXDOMAIN for a listed
domain; every Suricata rule parses with suricata-update's parser; nftables checks the set script."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from suricata.update import rule as suricata_rule

from herdsec.identity import Principal
from herdsec.intel.exports import service as exports
from tests.intel.export_world import EXPIRED, FALSE_POSITIVE, INVISIBLE, REVOKED, WARNINGLISTED, build


def tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/sbin", "/usr/bin"):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    return None


NAMED, CHECKZONE, DIG, NFT = (tool(n) for n in ("named", "named-checkzone", "dig", "nft"))
needs_bind = pytest.mark.skipif(
    not (NAMED and CHECKZONE and DIG),
    reason="BIND (named, named-checkzone, dig) is not installed: run `make consumers` (scripts/install-bind.sh)",
)


def export_text(session: Session, actor: Principal, fmt: str, **request: object) -> str:
    prepared = exports.prepare(session, actor, exports.ExportRequest(format=fmt, **request))  # type: ignore[arg-type]
    return "".join(exports.chunks(session, actor, prepared))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", port))  # the TCP port too (named listens on both)
    return port


NAMED_CONF = """options {{
  directory "{dir}";
  pid-file "{dir}/named.pid";
  session-keyfile "{dir}/session.key";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion yes;
  allow-query {{ 127.0.0.1; }};
  allow-recursion {{ 127.0.0.1; }};
  dnssec-validation no;
  response-policy {{ zone "rpz.herdsec"; }} qname-wait-recurse no;
}};
controls {{ }};
zone "rpz.herdsec" {{ type primary; file "{dir}/rpz.zone"; allow-query {{ none; }}; }};
zone "example" {{ type primary; file "{dir}/example.zone"; }};
"""
# A local authoritative zone, so that no query needs the internet: the listed name exists here and the policy zone
# must still turn it into NXDOMAIN.
EXAMPLE_ZONE = """$TTL 300
@ SOA localhost. hostmaster.localhost. 1 3600 600 604800 300
@ NS localhost.
listed A 192.0.2.2
www.listed A 192.0.2.3
not-listed A 192.0.2.1
"""


def dig(port: int, name: str) -> str:
    assert DIG is not None
    result = subprocess.run(
        [DIG, "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1", name, "A"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return result.stdout


def status(answer: str) -> str:
    for line in answer.splitlines():
        if "status:" in line:
            return line.split("status:")[1].split(",")[0].strip()
    return "no answer"


@pytest.fixture
def named(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """Yields (directory, port) and a start function's place: the test writes rpz.zone, then calls start."""
    return tmp_path, free_port()


def start_named(directory: Path, port: int) -> subprocess.Popen[bytes]:
    assert NAMED is not None
    (directory / "example.zone").write_text(EXAMPLE_ZONE)
    (directory / "named.conf").write_text(NAMED_CONF.format(dir=directory, port=port))
    log = (directory / "named.log").open("wb")
    process = subprocess.Popen([NAMED, "-g", "-4", "-c", str(directory / "named.conf")], stdout=log, stderr=log)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("named exited: " + (directory / "named.log").read_text()[-2000:])
        if status(dig(port, "not-listed.example")) == "NOERROR":
            return process
        time.sleep(0.2)
    process.kill()
    raise AssertionError("named did not answer within 15 s: " + (directory / "named.log").read_text()[-2000:])


@needs_bind
def test_bind_loads_the_rpz_zone_and_blocks_listed_domains(session: Session, named: tuple[Path, int]) -> None:
    directory, port = named
    world = build(session)
    zone = export_text(session, world.reader.principal, "rpz")
    (directory / "rpz.zone").write_text(zone)
    check = subprocess.run(
        [CHECKZONE or "", "rpz.herdsec", str(directory / "rpz.zone")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "loaded serial" in check.stdout
    process = start_named(directory, port)
    try:
        assert status(dig(port, "listed.example")) == "NXDOMAIN"
        assert status(dig(port, "www.listed.example")) == "NXDOMAIN"  # subdomains through *.domain
        answer = dig(port, "not-listed.example")
        assert status(answer) == "NOERROR" and "192.0.2.1" in answer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for absent in (WARNINGLISTED, FALSE_POSITIVE, REVOKED, INVISIBLE, EXPIRED[1]):
        assert absent not in zone


@needs_bind
def test_rpz_serial_grows_with_changes(session: Session, tmp_path: Path) -> None:
    world = build(session)

    def serial() -> int:
        zone = export_text(session, world.reader.principal, "rpz", zone="blocklist.example.net")
        path = tmp_path / "zone"
        path.write_text(zone)
        check = subprocess.run(
            [CHECKZONE or "", "blocklist.example.net", str(path)], capture_output=True, text=True, timeout=30
        )
        assert check.returncode == 0, check.stdout
        return int(check.stdout.split("loaded serial")[1].split()[0])

    first = serial()
    assert serial() == first
    from tests.intel.export_world import dom
    from tests.intel_factories import share

    time.sleep(1.1)  # serials count seconds
    share(session, world.sharer.principal, dom("brand-new.xyz"), tlp="green")
    assert serial() > first


def test_every_suricata_rule_parses(session: Session) -> None:
    world = build(session)
    reader = world.reader.principal
    texts = [
        export_text(session, reader, "suricata", include_malformed=True, include_warninglisted=True),
        export_text(session, reader, "suricata-dataset", part="rules"),
    ]
    for text in texts:
        lines = [line for line in text.splitlines() if line and not line.startswith("#")]
        assert lines
        for line in lines:
            parsed = suricata_rule.parse(line)
            assert parsed is not None, line
            assert parsed["sid"] and parsed["msg"]
    sids = [suricata_rule.parse(line)["sid"] for line in texts[0].splitlines() if line.startswith("alert")]
    assert len(sids) == len(set(sids))
    assert 'bad"' not in texts[0] and "bad?" not in texts[0]  # the malformed value never reaches a rule


@pytest.mark.skipif(NFT is None, reason="nftables is not installed: run `make consumers` (scripts/install-bind.sh)")
def test_nft_accepts_the_set_script(session: Session, tmp_path: Path) -> None:
    world = build(session)
    path = tmp_path / "herdsec.nft"
    path.write_text(export_text(session, world.reader.principal, "nft"))
    result = subprocess.run([NFT or "", "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    if result.returncode != 0 and "Operation not permitted" in result.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert result.returncode == 0, result.stderr
    assert "91.243.45.0/24" in path.read_text() and EXPIRED[0] not in path.read_text()
