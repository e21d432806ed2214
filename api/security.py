"""Response headers every answer carries, and the client address behind trusted proxies.

- ``SecurityHeaders``: ``X-Content-Type-Options: nosniff`` on every response, and
  ``Cache-Control: no-store`` on every response that does not set its own caching (API JSON,
  document downloads, errors): confidential content must not stay in a browser's or a proxy's
  cache. Only the static files of the pages (``/ui/static/``) are cached, as they say.
- ``TrustedProxies``: the client address (login throttling, the ledger) and the scheme come
  from ``X-Forwarded-For`` / ``X-Forwarded-Proto`` only when the connection comes from a
  configured proxy (``Settings.trusted_proxies``); then the address is the last one in the
  chain that is not itself a trusted proxy. Anyone else's forwarded headers are ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from itembank import i18n
from itembank.errors import ConfigurationError


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    """``["127.0.0.1", "10.0.0.0/8"]`` -> networks; a bad entry is refused with its value."""
    out = []
    for v in values:
        try:
            out.append(ipaddress.ip_network(v.strip(), strict=False))
        except ValueError as exc:
            raise ConfigurationError(i18n.Message(
                "ITEMBANK_TRUSTED_PROXIES: {value!r} is not an IP address or network (e.g. 10.0.0.0/8)", value=v),
                field="trusted_proxies") from exc
    return out


def _trusted(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


class TrustedProxies:
    """Rewrite ``scope["client"]`` (and the scheme) from the forwarded headers of trusted
    proxies only (see the module docstring). Without trusted proxies it does nothing."""

    def __init__(self, app: ASGIApp, *, proxies: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_networks(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.networks:
            client = scope.get("client")
            if client and _trusted(client[0], self.networks):
                headers = dict((k.lower(), v) for k, v in scope.get("headers") or ())
                chain = [a.strip() for a in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")
                         if a.strip()]
                # the nearest untrusted hop is the client; a longer chain past it is the client's own say
                address = next((a for a in reversed(chain) if not _trusted(a, self.networks)), None)
                if address is None and chain:
                    address = chain[0]
                scope = dict(scope)
                if address:
                    scope["client"] = (address, 0)
                proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[-1].strip()
                if proto in ("http", "https") and scope["type"] == "http":
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


__all__ = ["SecurityHeaders", "TrustedProxies", "parse_networks"]
