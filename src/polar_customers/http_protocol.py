"""uvicorn's httptools protocol with the request limits applied while a request's head is
parsed (docs/decisions.md#d48).

The URL and the header fields are counted as they arrive: a request over a limit is answered
414 or 431 in the API's error shape and its connection closed, so a client cannot make the
server hold a head of any size (uvicorn would buffer it whole, then answer 400 in plain text
to a URL over 64 KiB). `RequestLimitsMiddleware` applies the same limits to the ASGI scope,
for servers that do not use this protocol.
"""

import json
import logging
from collections.abc import Iterable
from functools import cache
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from polar_customers.config import Settings
from polar_customers.errors import AppError
from polar_customers.middleware import RequestLimits

logger = logging.getLogger(__name__)


LINGER_SECONDS = 2.0


@cache
def _limits() -> RequestLimits:
    # Read once per worker process, from the environment `serve` passes on.
    return RequestLimits.of(Settings())


def raw_response(error: AppError, default_headers: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
    """The whole HTTP/1.1 response of `error`, closing the connection."""
    body = json.dumps(error.body(), separators=(",", ":"), ensure_ascii=False).encode()
    status = HTTPStatus(error.status_code)
    head = [f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head.append(
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n".encode()
    )
    return b"".join(head) + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """The httptools protocol, refusing a URL or header fields over the limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = _limits()
        self.header_bytes = 0
        self.refused = False

    def refuse(self, error: AppError) -> None:
        """Answer, then close. Closing a socket whose client is still sending makes the
        kernel reset it, which can lose the answer: the connection is half-closed and what
        still arrives is discarded for a moment first (a lingering close)."""
        self.refused = True
        logger.info("Refused a request from %s: %s", self.client, error.detail)
        self.transport.write(raw_response(error, self.server_state.default_headers))
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if not self.refused:
            super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_bytes = 0

    def on_url(self, url: bytes) -> None:
        if self.refused:
            return
        if refusal := self.limits.url_refusal(len(self.url) + len(url)):
            self.refuse(refusal)
            return
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.refused:
            return
        self.header_bytes += len(name) + len(value)
        if refusal := self.limits.header_refusal(len(self.headers) + 1, self.header_bytes):
            self.refuse(refusal)
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if not self.refused:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self.refused:
            super().on_message_complete()
