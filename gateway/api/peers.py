"""Who is calling, network-wise: the peer address gRPC gives, or, when that peer is one of our
own trusted proxies (`ECOACH_TRUSTED_PROXIES`), the address it says it forwards for.

`x-forwarded-for` is a list each proxy appends to; read from the right, the first address that
is not a trusted proxy is the client. From any other peer the header is ignored: anyone can
send it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.168.1.4` → networks; raises ValueError on a bad entry."""
    return tuple(
        ipaddress.ip_network(p.strip(), strict=False) for p in text.split(",") if p.strip()
    )


def peer_address(peer: str) -> str:
    """gRPC's `ipv4:1.2.3.4:5678` / `ipv6:[::1]:5678` / `unix:...` → the address alone."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str, forwarded_for: Iterable[str], proxies: Sequence[Network]) -> str:
    address = peer_address(peer)
    if not proxies or not _trusted(address, proxies):
        return address
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # garbage from the client: the proxy is what we know
    return address
