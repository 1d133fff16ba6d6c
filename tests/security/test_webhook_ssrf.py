"""Partners' webhooks cannot be pointed at this network's own machines: every spelling of a
private address is refused at registration, and at delivery the host is resolved, checked and
connected to only at the addresses that passed (DNS rebinding cannot swap them).

Nothing here leaves the machine: DNS is a fake resolver, and every connection goes through a
socket factory that records its address and only lets 127.0.0.1 through (where a test's own
TLS receiver listens); a "public" address is never really connected to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.common import netguard
from services.referral import webhooks

HOST = "partner.example"
PUBLIC = "93.184.215.14"  # a global address, never actually connected to here

ATTACKS = ["https://127.1/hook", "https://2130706433/hook", "https://0x7f000001/hook",
           "https://0177.0.0.1/hook", "https://0/hook", "https://0.0.0.0/hook",
           "https://localhost./hook", "https://LOCALHOST/hook", "https://[::127.0.0.1]/hook",
           "https://[::ffff:127.0.0.1]/hook", "https://[64:ff9b::7f00:1]/hook",
           "https://[2002:7f00:1::]/hook", "https://[2002:a9fe:a9fe::]/hook",
           "https://2852039166/latest", "https://169.254.169.254/latest",
           "https://[fe80::1%25eth0]/hook", "https://[fd00::1]/hook", "https://[::]/hook",
           "https://intake:8001/internal/referrals", "https://redis:6379/",
           "https://kubernetes.default.svc/api", "https://metadata.google.internal/",
           "https://printer.local/", "https://db.svc.cluster.local/", "https://router.lan/",
           "https://100.64.0.1/hook", "https://192.168.1.1/hook", "https://[::1]:8443/hook",
           "https://1.2.3.4.5/hook", "https://09.1.1.1/hook", "https://partner.example:x/"]


@pytest.mark.parametrize("url", ATTACKS)
def test_registration_refuses_every_spelling_of_a_private_place(url: str) -> None:
    assert webhooks.check_url(url) is not None


@pytest.mark.parametrize("url", ["https://partner.example/hook", "https://8.8.8.8/hook",
                                 "https://[2606:4700:4700::1111]/hook",
                                 "https://hooks.partner.example:8443/livewell",
                                 "https://partner.example./hook"])
def test_registration_accepts_public_hosts(url: str) -> None:
    assert webhooks.check_url(url) is None


def test_ipv4_is_read_as_resolvers_read_it() -> None:
    spell = netguard.ipv4_in_any_spelling
    assert spell("127.1") == spell("2130706433") == spell("0x7f000001") == ip_address("127.0.0.1")
    assert spell("0177.0.0.1") == ip_address("127.0.0.1")
    assert spell("0") == ip_address("0.0.0.0")
    assert spell("2852039166") == ip_address("169.254.169.254")
    assert spell("partner.example") is None


def test_embedded_ipv4_is_checked() -> None:
    for literal in ("::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::", "::10.0.0.1"):
        assert netguard.why_not_public(ip_address(literal)) is not None, literal
    assert netguard.why_not_public(ip_address("64:ff9b::808:808")) is None  # 8.8.8.8 via NAT64
    assert netguard.why_not_public(ip_address("127.0.0.1"), allow_loopback=True) is None
    assert netguard.why_not_public(ip_address("10.0.0.1"), allow_loopback=True) is not None


class FakeDns(AbstractResolver):
    """Answers each lookup of a name with the next answer in its list (the last repeats)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.asked.append(host)
        queue = self.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [{"hostname": host, "host": a, "port": port,
                 "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for a in addresses]

    async def close(self) -> None:
        return None


@dataclass
class Network:
    """Stands for the network: records every connection; only 127.0.0.1 is really dialled."""

    dialled: list[str] = field(default_factory=list)

    def socket(self, addr_info: Any) -> socket.socket:
        address = addr_info[4][0]
        self.dialled.append(address)
        if address != "127.0.0.1":
            raise OSError(f"test network: {address} is unreachable")
        return socket.socket(addr_info[0], addr_info[1], addr_info[2])


@dataclass
class Receiver:
    port: int
    ca: ssl.SSLContext
    requests: list[bytes]
    server_names: list[str | None]


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[Receiver]:
    """An https receiver on 127.0.0.1 with a certificate for partner.example."""
    cert, key = _self_signed(HOST, tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_ctx.sni_callback = lambda _sock, name, _ctx: names.append(name)
    requests: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        requests.append(head)
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield Receiver(port, ssl.create_default_context(cafile=str(cert)), requests, names)


def _self_signed(name: str, into: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = into / "cert.pem", into / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


HEADERS = {"Content-Type": "application/json", webhooks.H_DELIVERY: "d-1"}


async def test_dns_rebinding_never_reaches_loopback() -> None:
    """First answer public, then 127.0.0.1: the loopback answer is refused, never dialled."""
    dns = FakeDns({HOST: [[PUBLIC], ["127.0.0.1"]]})
    net = Network()
    poster = webhooks.AiohttpPoster(resolver=dns, socket_factory=net.socket, timeout=5)
    try:
        with pytest.raises(OSError):  # the public address "is unreachable" on the test network
            await poster.post(f"https://{HOST}/hook", b"{}", HEADERS)
        refused = await poster.post(f"https://{HOST}/hook", b"{}", HEADERS)
    finally:
        await poster.close()
    assert refused.status == webhooks.REFUSED and "127.0.0.1" in str(refused.body)
    assert net.dialled == [PUBLIC]
    assert dns.asked == [HOST, HOST]  # one lookup per connection: the checked one is dialled


@pytest.mark.parametrize("answers", [[PUBLIC, "127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"],
                                     ["::ffff:127.0.0.1"], ["64:ff9b::a9fe:a9fe"],
                                     ["fd12::1"], ["::1"]])
async def test_one_private_answer_refuses_the_delivery(answers: list[str]) -> None:
    net = Network()
    poster = webhooks.AiohttpPoster(resolver=FakeDns({HOST: [answers]}),
                                    socket_factory=net.socket)
    try:
        resp = await poster.post(f"https://{HOST}/hook", b"{}", HEADERS)
    finally:
        await poster.close()
    assert resp.status == webhooks.REFUSED
    assert net.dialled == []


async def test_address_literals_are_checked_at_delivery_too() -> None:
    net = Network()
    poster = webhooks.AiohttpPoster(resolver=FakeDns({}), socket_factory=net.socket)
    try:
        for url in ("https://127.0.0.1/hook", "https://[::1]/hook", "https://127.1/hook"):
            assert (await poster.post(url, b"{}", HEADERS)).status == webhooks.REFUSED
    finally:
        await poster.close()
    assert net.dialled == []


async def test_loopback_is_refused_unless_a_test_allows_it(receiver: Receiver) -> None:
    net = Network()
    strict = webhooks.AiohttpPoster(resolver=FakeDns({HOST: [["127.0.0.1"]]}), ssl=receiver.ca,
                                    socket_factory=net.socket)
    try:
        resp = await strict.post(f"https://{HOST}:{receiver.port}/hook", b"{}", HEADERS)
    finally:
        await strict.close()
    assert resp.status == webhooks.REFUSED and net.dialled == [] and receiver.requests == []


async def test_the_checked_address_is_dialled_with_the_partners_name_for_tls_and_host(
    receiver: Receiver,
) -> None:
    net = Network()
    poster = webhooks.AiohttpPoster(allow_loopback=True, ssl=receiver.ca,
                                    resolver=FakeDns({HOST: [["127.0.0.1"]]}),
                                    socket_factory=net.socket)
    try:
        resp = await poster.post(f"https://{HOST}:{receiver.port}/hook", b'{"a":1}', HEADERS)
    finally:
        await poster.close()
    assert resp.status == 204
    assert net.dialled == ["127.0.0.1"]
    assert receiver.server_names == [HOST]  # SNI: the certificate was checked for the name
    assert f"host: {HOST}:{receiver.port}".encode() in receiver.requests[0].lower()


def test_the_loopback_allowance_is_off_unless_set() -> None:
    from services.common.settings import Settings

    assert Settings(_env_file=None).webhook_allow_loopback is False
