"""ASGI middleware that bounds request bodies in size and in how slowly they may arrive.

A JSON body (hints, parsed whole by the framework on the event loop) has a lower limit than an
upload. A body whose ``Content-Length`` is over its limit is refused with 413 before any of it is
read. A
body sent without a length (chunked) is counted as it arrives and refused as soon as it passes the
limit; a body that stalls for longer than ``timeout_s`` between two chunks gets a 408. Either way
the application then sees the client as gone, and nothing it sends afterwards reaches the client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_json_error(send: Send, status: int, message: str) -> None:
    """A complete ``{"error": message}`` response, sent with raw ASGI messages."""
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _is_json(scope: Scope) -> bool:
    return any(
        name == b"content-type" and b"json" in value.lower() for name, value in scope["headers"]
    )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (JSON bodies: ``max_json_bytes``) with 413, and bodies
    that stall past ``timeout_s`` with 408."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, timeout_s: float, max_json_bytes: int | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_bytes if max_json_bytes is None else max_json_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_json_bytes if _is_json(scope) else self.max_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await send_json_error(send, 413, _too_large(limit, declared, declared=True))
            return
        await _GuardedRequest(self, limit, receive, send).run(scope)


def _too_large(limit: int, received: int, declared: bool) -> str:
    """The 413 message: how much came (or was announced) and the limit."""
    text = f"the server's limit of {limit / (1024 * 1024):g} MB"
    if declared:
        return f"request body of {received:,} bytes is larger than {text}"
    return f"request body is larger than {text} (refused after {received:,} bytes)"


class _GuardedRequest:
    """One request: counts body bytes, and answers for the app when the body is refused."""

    def __init__(
        self, limit: BodyLimitMiddleware, max_bytes: int, receive: Receive, send: Send
    ) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.receive = receive
        self.send = send
        self.received = 0
        self.response_started = False
        self.refused = False

    async def run(self, scope: Scope) -> None:
        await self.limit.app(scope, self.guarded_receive, self.guarded_send)

    async def guarded_receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        try:
            message = await asyncio.wait_for(self.receive(), self.limit.timeout_s)
        except TimeoutError:
            timeout = self.limit.timeout_s
            return await self.refuse(408, f"request body stalled for more than {timeout:g} s")
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.max_bytes:
                too_large = _too_large(self.max_bytes, self.received, declared=False)
                return await self.refuse(413, too_large)
        return message

    async def refuse(self, status: int, message: str) -> Message:
        self.refused = True
        if not self.response_started:
            self.response_started = True
            await send_json_error(self.send, status, message)
        return {"type": "http.disconnect"}

    async def guarded_send(self, message: Message) -> None:
        if self.refused:
            return  # the client already has its answer
        if message["type"] == "http.response.start":
            self.response_started = True
        await self.send(message)
