"""Every error as JSON with a ``detail``: the core's exceptions, validation, HTTP errors and crashes."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from matchmaker.core.errors import MatchmakerError, ProfileError, SettingsError, UnknownOrganisation, counted
from matchmaker.loading.problems import field_path, short_value
from matchmaker.service.schemas import ErrorOut
from matchmaker.service.state import REPORT_RETRY_S, ReportBusy, ShippedProfile, problem_list

log = logging.getLogger("matchmaker.service")


def render_json(content: Any) -> bytes:
    """Compact JSON as UTF-8 (orjson: a 33 kB partner list in a tenth of the standard library's time).

    Text that is not valid UTF-8 (lone surrogates echoed from a request) is escaped instead.

    >>> render_json({"name": "Sakana AI", "score": 0.25, "tags": ("llm",)})
    b'{"name":"Sakana AI","score":0.25,"tags":["llm"]}'
    >>> render_json({"name": "\\ud800"})
    b'{"name":"\\\\ud800"}'
    """
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


class JSONBody(JSONResponse):
    """A JSON response rendered by :func:`render_json`."""

    def render(self, content: Any) -> bytes:
        return render_json(content)


def error(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONBody:
    return JSONBody({"detail": detail, **extra}, status_code=status, headers=headers)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (first.get("ctx") or {}).get("error", "invalid JSON")
        return error(400, f"the request body is not valid JSON: {reason}")
    problems = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        message = str(e.get("msg", "invalid"))
        if e.get("type") == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}"
        elif e.get("type") == "missing":
            message = f"missing required field {loc[-1]!r}"
        problems.append(
            {
                "field": field_path(loc),
                "value": "" if e.get("type") == "missing" else short_value(e.get("input")),
                "message": message,
            }
        )
    more = f" (and {counted(len(problems) - 1, 'more problem')})" if len(problems) > 1 else ""
    first_problem = f"{problems[0]['field']}: {problems[0]['message']}" if problems else "invalid request"
    return error(422, f"invalid request: {first_problem}{more}", problems=problems)


def _allowed_methods(request: Request) -> str:
    """The methods the contract documents for this path (plus HEAD with GET), for ``Allow``."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, default=str)
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == "Not Found":
        detail = "no such endpoint; the endpoints are listed at /docs"
    elif exc.status_code == 405:
        detail = f"method {request.method} not allowed here; allowed: {_allowed_methods(request)}"
        headers["Allow"] = _allowed_methods(request)
    return error(exc.status_code, detail, headers=headers)


async def _unknown(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownOrganisation)
    return error(404, str(exc), suggestions=list(exc.suggestions))


async def _profile(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProfileError)
    return error(422, f"invalid profile: {exc}", problems=problem_list(list(exc.problems)))


async def _matchmaker(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ReportBusy):
        return error(429, str(exc), headers={"Retry-After": str(REPORT_RETRY_S)})
    status = 409 if isinstance(exc, ShippedProfile) else 422
    return error(status, str(exc))


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error(500, "internal error; it has been logged")


def install(app: FastAPI) -> None:
    """Map every exception to a JSON error (see ``ERROR_RESPONSES`` for the documented codes)."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(UnknownOrganisation, _unknown)
    app.add_exception_handler(ProfileError, _profile)
    app.add_exception_handler(SettingsError, _matchmaker)
    app.add_exception_handler(MatchmakerError, _matchmaker)
    app.add_exception_handler(Exception, _crash)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error ``codes`` an operation can return."""
    return {code: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[code]} for code in (*codes, 500)}


ERROR_DESCRIPTIONS = {
    400: "The request body is not valid JSON.",
    401: "Missing or wrong API key (`Authorization: Bearer <key>`).",
    403: "A key was sent but writes are disabled: the server has no API key configured.",
    404: "Unknown organisation (with suggestions) or endpoint.",
    409: "The id belongs to a shipped profile, which configuration does not allow the API to change.",
    413: "The request body is larger than the configured cap.",
    414: "The request target (path and query string) is longer than the server accepts.",
    415: "The request has a body that is not declared JSON (`Content-Type: application/json`).",
    429: "Another report is being prepared on this server; retry after `Retry-After` seconds.",
    431: "The request has more headers, or larger ones, than the server accepts.",
    422: "A parameter or the body is invalid; `problems` lists each field, its value and what is accepted.",
    503: "The database does not answer.",
    500: "Internal error (logged on the server; no details are returned).",
}
