"""Which headers cross the gateway, in each direction (RFC 9110 section 7.6.1)."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from roadwatch.platform.correlation import HEADER as REQUEST_ID

RawHeaders = list[tuple[bytes, bytes]]

# meaningful for one connection only, never forwarded
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# the gateway's own server sets these on the way down; forwarding them would double them
_SET_BY_GATEWAY = frozenset({b"date", b"server", REQUEST_ID})


def _dropped(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    # a sender may name further per-connection headers in Connection
    names = set(HOP_BY_HOP)
    for name, value in headers:
        if name.lower() == b"connection":
            names |= {token.strip().lower() for token in value.split(b",") if token.strip()}
    return names


def upstream_request_headers(
    headers: RawHeaders, peer: str | None, scheme: str, correlation_id: str
) -> RawHeaders:
    """The client's headers as the upstream should see them.

    X-Forwarded-For gets the address this gateway received the request from appended
    (nginx in front appends the client's); Host becomes the upstream's, the original goes
    to X-Forwarded-Host; X-Request-ID is the correlation id of this request.
    """
    dropped = _dropped(headers) | {b"host", REQUEST_ID}
    out = [(name.lower(), value) for name, value in headers if name.lower() not in dropped]
    present = {name for name, _ in out}
    original = dict(headers)
    if peer:
        forwarded = original.get(b"x-forwarded-for")
        value = f"{forwarded.decode('latin-1')}, {peer}" if forwarded else peer
        out = [(n, v) for n, v in out if n != b"x-forwarded-for"]
        out.append((b"x-forwarded-for", value.encode("latin-1")))
    if b"x-forwarded-proto" not in present:
        out.append((b"x-forwarded-proto", scheme.encode()))
    if b"x-forwarded-host" not in present and b"host" in original:
        out.append((b"x-forwarded-host", original[b"host"]))
    out.append((REQUEST_ID, correlation_id.encode()))
    return out


def client_response_headers(response: httpx.Response) -> RawHeaders:
    """The upstream's response headers as the client should see them."""
    raw = response.headers.raw
    dropped = _dropped(raw) | _SET_BY_GATEWAY
    return [(name.lower(), value) for name, value in raw if name.lower() not in dropped]
