"""The HTTP/1.1 protocol ``matchmaker serve`` runs: uvicorn's httptools protocol, with caps and JSON errors.

uvicorn answers a request it cannot parse (an over-long or malformed request line, ``Content-Length:
-1``, a bad header) itself, before any application code, with ``text/plain`` "Invalid HTTP request
received.", and httptools reads a header of any size into memory. Here the same parser refuses, as
JSON with a ``detail`` (like every other error of the API):

* a request target over ``MAX_URL_BYTES`` (414), more than ``MAX_HEADERS`` headers or headers over
  ``MAX_HEADER_BYTES`` (431), as soon as the parser sees them;
* a request line and headers still unfinished after ``MAX_HEAD_BYTES`` (431), counted as the bytes
  arrive, so a 10 MB header costs 64 KiB;
* anything else httptools cannot parse (400, with the parser's reason).

The connection is closed after such an answer (the rest of what was sent cannot be trusted).
"""

from __future__ import annotations

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from matchmaker.service.limits import (
    HEADERS_TOO_LARGE,
    MAX_HEAD_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    MAX_URL_BYTES,
    SECURITY_HEADERS,
    TOO_MANY_HEADERS,
    URL_TOO_LONG,
    error_body,
)

REASONS = {400: b"Bad Request", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}
END_OF_HEAD = b"\r\n\r\n"
LINE_ROOM = 64  # the method and the HTTP version around the request target


class Refused(Exception):
    """A request over a cap: the status and the detail to answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with caps on the request line and headers, and errors as JSON."""

    _head_bytes = 0
    _tail = b""
    _in_head = True
    _line_done = False  # the request line has ended (a head too large before that is a request target too long)
    _header_bytes = 0

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self._count_head(data)
            self.parser.feed_data(data)
        except Refused as refused:
            self.refuse(refused.status, refused.detail)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as error:
            cause = error.__context__
            if isinstance(cause, Refused):  # raised in a parser callback below
                self.refuse(cause.status, cause.detail)
            else:
                reason = str(error).strip() or "it cannot be parsed"
                self.refuse(400, f"the request is not valid HTTP/1.1: {reason}")

    def _count_head(self, data: bytes) -> None:
        """Count the bytes of the request line and headers as they arrive; refuse past MAX_HEAD_BYTES."""
        if not self._in_head:
            return
        seen = self._tail + data
        if not self._line_done:
            line_end = seen.find(b"\r\n")
            line = self._head_bytes - len(self._tail) + (len(seen) if line_end == -1 else line_end)
            if line > MAX_URL_BYTES + LINE_ROOM:
                raise Refused(*URL_TOO_LONG)
            self._line_done = line_end != -1
        end = seen.find(END_OF_HEAD)
        if end == -1:
            self._head_bytes += len(data)
            self._tail = seen[-(len(END_OF_HEAD) - 1) :]
        else:
            self._head_bytes += end + len(END_OF_HEAD) - len(self._tail)
            self._in_head = False
        if self._head_bytes > MAX_HEAD_BYTES:
            raise Refused(431, f"the request line and headers are larger than {MAX_HEAD_BYTES} bytes")

    # -- parser callbacks ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > MAX_URL_BYTES:
            raise Refused(*URL_TOO_LONG)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if len(self.headers) >= MAX_HEADERS:
            raise Refused(*TOO_MANY_HEADERS)
        if self._header_bytes > MAX_HEADER_BYTES:
            raise Refused(*HEADERS_TOO_LARGE)
        super().on_header(name, value)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._line_done, self._head_bytes, self._tail = True, False, 0, b""

    # -- answers ------------------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        self.refuse(400, f"the request is not valid HTTP/1.1: {msg}")

    def refuse(self, status: int, detail: str) -> None:
        """Answer ``status`` with a JSON ``detail`` and close the connection."""
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a response is under way: nothing else may be written into it
            return
        body = error_body(detail)
        head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Error"))]
        for name, value in [*self.server_state.default_headers, *SECURITY_HEADERS]:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.logger.warning("refused a request: %s", detail)
        self.transport.write(b"".join(head) + body)
        self.transport.close()
