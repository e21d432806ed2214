"""A bounded retry of whole requests that the database refused for a retryable reason.

A PostgreSQL deadlock or serialization failure (the other transaction went through; ours was
rolled back) or a SQLite stale snapshot is answered by ``api.errors`` with 503 and a private
header; this middleware, which has kept the request body, runs the request again at once (up to
``ATTEMPTS`` times, with a short random pause) before anything reached the client. Only after
the last attempt does the 503 (with Retry-After and a message in the reader's language) go out.
The lock order (``itembank.ledger``) makes such failures rare; this makes the rare ones invisible.
"""

from __future__ import annotations

import asyncio
import logging
import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

RETRY_HEADER = "x-itembank-retry"
_RETRY_HEADER_BYTES = RETRY_HEADER.encode("latin-1")
ATTEMPTS = 4


class RetryOnConflict:
    def __init__(self, app: ASGIApp, attempts: int = ATTEMPTS) -> None:
        self.app = app
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body: list[Message] = []
        more = True
        while more:  # keep the body: a retry must see it again
            message = await receive()
            body.append(message)
            more = message["type"] == "http.request" and message.get("more_body", False)

        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            replay = iter(body)

            async def replayed() -> Message:
                try:
                    return next(replay)
                except StopIteration:
                    return await receive()  # a disconnect, after the body

            retry = False

            async def sending(message: Message) -> None:
                nonlocal retry
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", []) if k != _RETRY_HEADER_BYTES]
                    if len(headers) != len(message.get("headers", [])) and not last:
                        retry = True
                        return
                    message = {**message, "headers": headers}
                if retry:
                    return  # the body of a response that is being replaced
                await send(message)

            await self.app(scope, replayed, sending)
            if not retry:
                return
            log.info("retrying %s %s after a database conflict (attempt %d)", scope.get("method"),
                     scope.get("path"), attempt + 2)
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
