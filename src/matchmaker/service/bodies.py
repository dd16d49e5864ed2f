"""Request bodies as strict JSON: one meaning for every body, or a 400 that says why not.

Python's ``json.loads`` takes the last of two equal keys (``{"strength": 1, "strength": 3}``), reads
``NaN`` and ``Infinity``, and keeps lone surrogates (``"\\ud800"``, not a character). The profile
loader refuses duplicate keys in YAML; the API refuses them, and the rest, in JSON too. A body is
only read as JSON when it says it is (``Content-Type: application/json``): anything else is 415.
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

MAX_NUMBER_DIGITS = 30  # more than any count or strength needs; Python refuses past 4,300 anyway


def _fail(message: str, doc: str = "", pos: int = 0) -> json.JSONDecodeError:
    return json.JSONDecodeError(message, doc, pos)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _fail(f"the key {key!r} appears twice in one object; each key may appear once")
        found[key] = value
    return found


def _constant(name: str) -> Any:
    raise _fail(f"{name} is not a JSON number; send a finite number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _fail(f"the number {text[:12]}... has more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _surrogate_free(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= c <= "\udfff" for c in item):
                bad = next(c for c in item if "\ud800" <= c <= "\udfff")
                raise _fail(f"the text contains \\u{ord(bad):04x}, half of a surrogate pair, which is not a character")
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def strict_loads(body: bytes | str) -> Any:
    """``body`` as JSON, refusing duplicate keys, NaN and infinities, lone surrogates and huge numbers.

    Raises ``json.JSONDecodeError`` (FastAPI answers it as 400 "not valid JSON") with the reason.

    >>> strict_loads(b'{"strength": 3, "tags": ["llm"]}')
    {'strength': 3, 'tags': ['llm']}
    >>> strict_loads(b'{"strength": 1, "strength": 3}')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    json.decoder.JSONDecodeError: the key 'strength' appears twice in one object; each key may appear once...
    """
    try:
        value = json.loads(body, object_pairs_hook=_object, parse_constant=_constant, parse_int=_integer)
    except RecursionError:
        raise _fail("the body is nested too deeply") from None
    except UnicodeDecodeError as err:
        raise _fail(f"the body is not UTF-8 text (byte {err.start})") from None
    _surrogate_free(value)
    return value


def is_json(content_type: str | None) -> bool:
    """True for ``application/json`` and ``application/<anything>+json``, parameters allowed.

    >>> is_json("application/json; charset=utf-8"), is_json("application/problem+json"), is_json("text/plain")
    (True, True, False)
    """
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class StrictJSONRequest(Request):
    """A request whose JSON body is read by :func:`strict_loads`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route that reads its body as strict JSON, and refuses (415) a body that is not declared JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def strict(request: Request) -> Response:
            if takes_body:
                request = StrictJSONRequest(request.scope, request.receive)
                content_type = request.headers.get("content-type")
                if await request.body() and not is_json(content_type):
                    got = f"{content_type!r}" if content_type else "no Content-Type"
                    raise HTTPException(
                        415, f"the request body must be JSON: send 'Content-Type: application/json' (got {got})"
                    )
            return await handler(request)

        return strict
