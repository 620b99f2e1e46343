"""The webhook tests' receiver (a real local HTTP server recording every request) and ``until`` (deliver as the
worker does until a condition holds); the fixtures are in conftest.py."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from cabinet.domains.registry import Services


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server on loopback recording every request; ``status`` is what it answers."""

    status: int = 200
    delay: float = 0.0  # seconds before each answer
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            await asyncio.sleep(self.delay)
            if self.status < 300:
                self.received.append((headers, body))
            reply = b"x" * 5000 if self.status >= 500 else b"ok"
            writer.write(
                f"HTTP/1.1 {self.status} X\r\nContent-Length: {len(reply)}\r\nConnection: close\r\n\r\n".encode()
                + reply
            )
            await writer.drain()
        finally:
            writer.close()

    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.received]

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _ in self.received]


async def until(condition: Any, services: Services, rounds: int = 200) -> None:
    """Deliver what is due (as the worker does) until ``condition()`` holds."""
    for _ in range(rounds):
        if condition():
            return
        await services.webhooks.deliver_due()
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")
