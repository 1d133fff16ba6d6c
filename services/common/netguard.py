"""Whether an address or host name outsiders chose may be called from inside this network.

Partners choose where their webhooks are delivered; without these checks a partner could have
the referral service post to this network's own machines (the services on 127.0.0.1, Redis,
the cloud's metadata address) or read their answers through timing and status. Two layers use
this module: registration refuses URLs that plainly name such a place (in every spelling a
resolver or browser accepts), and delivery resolves the name, refuses if any answer is not on
the public internet, and connects only to the answers it checked (a name can resolve to a
public address when registered and to 127.0.0.1 a second later: DNS rebinding).
"""

from __future__ import annotations

import string
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address

NAT64 = IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are IPv4
IPV4_COMPATIBLE = IPv6Network("::/96")  # deprecated ::a.b.c.d, still routed by some stacks

# Names that never lead to the public internet: one label (`intake`, `redis`, `localhost`)
# and the suffixes of local, cluster-internal and private-use names.
PRIVATE_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".intranet", ".lan",
                    ".home", ".home.arpa", ".corp", ".private", ".svc", ".arpa")


class AddressRefused(OSError):
    """A host resolved to (or is) an address this system does not call."""


def embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, IPv4-compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or ip in IPV4_COMPATIBLE:
        return IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def why_not_public(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why `ip` must not be called, or None for an address on the public internet.

    `allow_loopback` (tests only) lets 127.0.0.0/8 and ::1 through, nothing else."""
    inner = embedded_ipv4(ip) if isinstance(ip, IPv6Address) else None
    if allow_loopback and (ip.is_loopback or (inner is not None and inner.is_loopback)):
        return None
    if inner is not None:
        return why_not_public(inner) and f"{ip} is not a public address"
    if (not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified
            or ip.is_link_local or ip.is_loopback or ip.is_private):
        return f"{ip} is not a public address"
    return None


def _is_number(part: str) -> bool:
    if part[:2].lower() == "0x":
        return all(c in string.hexdigits for c in part[2:])
    return part != "" and part.isascii() and part.isdigit()


def _number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part, 8)
    return int(part, 10)


def ipv4_in_any_spelling(host: str) -> IPv4Address | None:
    """The IPv4 address a host that ends in a number stands for, as resolvers (inet_aton) and
    browsers (the WHATWG URL standard) read it: `127.1`, `2130706433`, `0x7f000001`,
    `0177.0.0.1` and `0` are all addresses. None for a name; ValueError for a host that ends
    in a number yet is no address (`1.2.3.4.5`, `09.1.1.1`)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts = parts[:-1]
    if not _is_number(parts[-1]):
        return None
    if len(parts) > 4 or not all(_is_number(p) for p in parts):
        raise ValueError(f"{host} is neither a name nor an IPv4 address")
    numbers = [_number(p) for p in parts]  # ValueError for 08, 09 (not octal)
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"{host} is out of range for an IPv4 address")
    value = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return IPv4Address(value)


def why_not_public_host(host: str, *, allow_loopback: bool = False) -> str | None:
    """Why a URL's host (as `urlsplit().hostname` gives it) plainly names a place this system
    must not call, or None when only resolving it can tell (a public-looking name) or it is a
    public address. A first filter, kept at registration; delivery checks what names resolve to.
    """
    host = host.lower()
    if ":" in host:  # an IPv6 literal (the brackets are already gone)
        try:
            return why_not_public(ip_address(host), allow_loopback=allow_loopback)
        except ValueError:
            return f"{host} is not a valid IPv6 address"
    try:
        v4 = ipv4_in_any_spelling(host)
    except ValueError as exc:
        return str(exc)
    if v4 is not None:
        if str(v4) != host:  # 127.1, 0x7f000001: no partner writes an address like this
            return f"{host} is not an IPv4 address in dotted-decimal form"
        return why_not_public(v4, allow_loopback=allow_loopback)
    name = host.removesuffix(".")
    if "." not in name or name.startswith(".") or ".." in name:
        return f"{host} is not a fully qualified public name"
    if name.endswith(PRIVATE_SUFFIXES):
        return f"{host} is a local or private name"
    return None
