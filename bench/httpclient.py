"""A lean HTTP/1.1 keep-alive client for the load generator.

aiohttp's client costs more CPU per request than the bare server it would measure, so the
generator writes pre-built requests on raw asyncio connections and reads just enough of each
answer (status, Content-Length or chunked body) to know it is complete.
"""

from __future__ import annotations

import asyncio
from typing import cast


class HttpError(Exception):
    """The connection broke or the answer was not HTTP/1.1."""


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(cls, host, port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                answer = self._parse()
            except HttpError as exc:
                self.waiter.set_exception(exc)
                return
            if answer is not None:
                self.waiter.set_result(answer)

    def _parse(self) -> tuple[int, bytes] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).split(b"\r\n")
        parts = head[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError("not an HTTP/1.x answer")
        status = int(parts[1])
        length: int | None = None
        chunked = False
        for line in head[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        start = end + 4
        if chunked:
            return self._chunked(status, start)
        length = length or 0
        if len(self.buffer) < start + length:
            return None
        body = bytes(self.buffer[start:start + length])
        del self.buffer[:start + length]
        return status, body

    def _chunked(self, status: int, pos: int) -> tuple[int, bytes] | None:
        body = bytearray()
        while True:
            eol = self.buffer.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(bytes(self.buffer[pos:eol]).split(b";")[0], 16)
            if size == 0:
                done = self.buffer.find(b"\r\n\r\n", eol)
                if done < 0:
                    return None
                del self.buffer[:done + 4]
                return status, bytes(body)
            if len(self.buffer) < eol + 2 + size + 2:
                return None
            body += self.buffer[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2

    async def request(self, raw: bytes, timeout: float) -> tuple[int, bytes]:
        """Send one pre-built request and wait for its whole answer."""
        if self.closed or self.transport is None:
            raise HttpError("connection closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        try:
            return await asyncio.wait_for(self.waiter, timeout)
        finally:
            self.waiter = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def build_request(method: str, host: str, port: int, path: str, headers: dict[str, str],
                  body: bytes) -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
