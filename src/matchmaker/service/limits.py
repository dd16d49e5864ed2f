"""The service's edge: caps on what a request may be, and the headers every response carries.

The caps are enforced twice, in one set of numbers: by :mod:`matchmaker.service.protocol` while the
request arrives (``matchmaker serve``: a 10 MB header is refused after its first 64 KiB), and by
:class:`RequestLimits` in the app (so any ASGI server, and the test client, give the same answers).
Every refusal is JSON with a ``detail``, like every other error.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_URL_BYTES = 8 * 1024  # the request target: path and query string
MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024  # every header name and value together
MAX_HEAD_BYTES = 64 * 1024  # the request line and the headers as they arrive, before they are parsed

# Every response: browsers must not guess a type other than the declared one (a JSON error is never
# run as a script or a page), and nothing of ours is meant to be framed by another site.
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"))
# The HTML report is self-contained: it may load nothing at all (styles are inline, charts inline SVG).
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
# Anything else (JSON) is data: it may load and run nothing, and is never framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The interactive docs load Swagger UI from this server (never a CDN) and run its inline start-up script.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)


def error_body(detail: str) -> bytes:
    """The JSON of an error refused before the app runs.

    >>> error_body("the request line is too long")
    b'{"detail":"the request line is too long"}'
    """
    return json.dumps({"detail": detail}, separators=(",", ":"), ensure_ascii=True).encode("ascii")


URL_TOO_LONG = (
    414,
    f"the request target (path and query string) is longer than {MAX_URL_BYTES} bytes, the most this server accepts",
)
TOO_MANY_HEADERS = (431, f"the request has more than {MAX_HEADERS} headers, the most this server accepts")
HEADERS_TOO_LARGE = (
    431,
    f"the request's headers are larger than {MAX_HEADER_BYTES} bytes, the most this server accepts",
)


def head_refusal(target: int, headers: list[tuple[bytes, bytes]]) -> tuple[int, str] | None:
    """Why a request with a ``target`` of that many bytes and these headers is refused, or None.

    >>> head_refusal(20, [(b"host", b"x")]) is None, head_refusal(MAX_URL_BYTES + 1, [])[0]
    (True, 414)
    """
    if target > MAX_URL_BYTES:
        return URL_TOO_LONG
    if len(headers) > MAX_HEADERS:
        return TOO_MANY_HEADERS
    if sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES:
        return HEADERS_TOO_LARGE
    return None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = error_body(detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def secured_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with the security headers added where the response did not set its own.

    >>> [n for n, _ in secured_headers([(b"content-type", b"application/json")])]
    [b'content-type', b'x-content-type-options', b'x-frame-options', b'content-security-policy']
    """
    present = {name.lower(): value for name, value in headers}
    extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
    if b"content-security-policy" not in present:
        html = present.get(b"content-type", b"").startswith(b"text/html")
        extra.append((b"content-security-policy", (DOCS_CSP if html else API_CSP).encode()))
    return [*headers, *extra]


class RequestLimits:
    """Refuse (JSON) a request whose target, header count or header size is over the caps; add the
    security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": secured_headers(list(message.get("headers", [])))}
            await send(message)

        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        refusal = head_refusal(target, list(scope["headers"]))
        if refusal is not None:
            await _answer(secured, *refusal)
            return
        await self.app(scope, receive, secured)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes, the most this server accepts")


class BodySizeLimit:
    """Answer 413 (JSON) to any request whose body exceeds ``max_bytes``, before the body is parsed.

    A declared ``Content-Length`` over the cap is refused without reading; otherwise bytes are
    counted as they are received, so a chunked body is cut off as soon as it passes the cap.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _answer(send, 400, "the Content-Length header is not a whole number")
                return
            if int(declared) > self.max_bytes:
                await _answer(send, 413, BodyTooLarge(self.max_bytes).detail)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as err:
            # Normally the exception handlers answer first; this covers a body read outside a route.
            if started:
                raise
            await _answer(send, 413, err.detail)
