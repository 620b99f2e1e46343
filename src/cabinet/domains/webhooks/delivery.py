"""Sending one delivery: the Standard Webhooks signature, the address guard (SSRF) and the HTTP request (10 s,
no redirects, at most 1 KB of the answer kept)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import hmac
import ipaddress
import secrets
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from cabinet.core.errors import FieldIssue
from cabinet.domains.webhooks.errors import WebhookInvalid, WebhookUrlRefused
from cabinet.domains.webhooks.schemas import RESPONSE_KEPT_BYTES, SECRET_BYTES, SECRET_PREFIX, TIMEOUT_SECONDS, URL_MAX

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# cloud metadata services that are not link-local (AWS IPv6, Alibaba)
METADATA = frozenset({ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")})


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``<id>.<timestamp>.<body>`` with the secret's key (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def refused_address(address: Address) -> bool:
    """Loopback, private, link-local (cloud metadata), unspecified, multicast or reserved."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or address in METADATA
        or (isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"))
    )


def checked_url(url: str) -> str:
    """An http(s) URL with a host, or WebhookInvalid."""
    parts = urlsplit(url) if isinstance(url, str) and len(url) <= URL_MAX else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or "\x00" in url:
        raise WebhookInvalid("url: an http or https URL", issues=[FieldIssue("url", "an http or https URL")])
    try:
        parts.port  # noqa: B018 (a bad port raises)
    except ValueError as exc:
        raise WebhookInvalid("url: bad port", issues=[FieldIssue("url", "bad port")]) from exc
    return url


async def guard(url: str, *, allow_private: bool) -> Address | None:
    """Refuse a URL whose host resolves to an address an integration must not reach (unless allowed); the one
    address to connect to (None when private networks are allowed: the URL is used as it is)."""
    if allow_private:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[Address] = [literal]
    else:
        try:
            addresses = await resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
        except OSError as exc:
            raise _refused(f"{host} does not resolve") from exc
    if not addresses or any(refused_address(a) for a in addresses):
        raise _refused(f"{host} resolves to a loopback, private, link-local or metadata address")
    return addresses[0]


async def resolve(host: str, port: int) -> list[Address]:
    """The host's addresses, in the resolver's order (one lookup)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def pinned(url: str, address: Address | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request aimed at the checked address (DNS rebinding: the name is never looked up again between the
    check and the connection): the URL with the address for the host, the Host header and the TLS server name
    (SNI, and what the certificate is checked against) of the original name."""
    if address is None:
        return url, {}, {}
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    target = parts._replace(netloc=netloc).geturl()
    shown = f"[{host}]" if ":" in host else host
    headers = {"host": shown if parts.port is None else f"{shown}:{parts.port}"}
    return target, headers, ({"sni_hostname": host} if parts.scheme == "https" else {})


def _refused(message: str) -> WebhookUrlRefused:
    return WebhookUrlRefused(
        f"url: {message} (CABINET_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)",
        issues=[FieldIssue("url", message)],
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None
    response: str | None = None


async def send(
    client: httpx.AsyncClient,
    url: str,
    message_id: str,
    timestamp: int,
    body: bytes,
    signing_secrets: tuple[str, ...],
    *,
    allow_private: bool,
) -> Outcome:
    """POST one signed event; a 2xx answer delivers it. Never raises for the endpoint's failures."""
    try:
        address = await guard(url, allow_private=allow_private)  # at send time too: DNS may have changed
    except WebhookUrlRefused as exc:
        return Outcome(False, error=exc.message[:256])
    target, host, extensions = pinned(url, address)  # and the connection goes to the address just checked
    headers = {
        **host,
        "content-type": "application/json",
        "user-agent": "cabinet-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in signing_secrets),
    }
    try:
        request = client.build_request("POST", target, content=body, headers=headers, extensions=extensions)
        async with contextlib.aclosing(await client.send(request, stream=True)) as response:
            kept = b""
            async for chunk in response.aiter_bytes():
                kept += chunk
                if len(kept) >= RESPONSE_KEPT_BYTES:
                    break
            text = kept[:RESPONSE_KEPT_BYTES].decode("utf-8", "replace")
            return Outcome(200 <= response.status_code < 300, response.status_code, response=text)
    except httpx.TimeoutException:
        return Outcome(False, error=f"no answer within {TIMEOUT_SECONDS:g} s")
    except httpx.HTTPError as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:256])


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~40 ms of CPU, and every app (each
    test builds one) starts a worker with a client."""
    return httpx.create_ssl_context()


def http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False, verify=_tls())
