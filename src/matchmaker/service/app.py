"""The FastAPI application: routes, error handlers, the body-size cap, CORS and the contract."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from matchmaker.service import errors, event_routes
from matchmaker.service.contract import apply_vocabulary
from matchmaker.service.limits import BodySizeLimit, RequestLimits
from matchmaker.service.params import refuse_unknown_query_parameters, weights_pattern
from matchmaker.service.report_routes import router as report_router
from matchmaker.service.routes import health, router
from matchmaker.service.schemas import TEXT_RULE
from matchmaker.service.state import Service
from matchmaker.settings import ServiceSettings, load_service_settings

DESCRIPTION = f"""Complementary partner recommendations between AI organisations: what one offers meets
what the other needs, per dimension, with the evidence behind every reason. The JSON shapes are those of
the CLI's `--format json`.

**Authentication.** Reads are open. Writes (PUT and DELETE on an organisation, POST /v1/feedback) and
the pairing report (staff material, seconds of CPU each) need `Authorization: Bearer <key>` with a key from
the server's configuration (`MATCHMAKER_API_KEYS`); a server without a configured key refuses them (401
without a key, 403 with one).

**Errors.** Every error is JSON with a `detail`, those of the HTTP layer included. 400: the body is not
strict JSON, or the request is not valid HTTP; 401: missing or wrong key; 403: writes disabled (no key
configured); 404: unknown organisation (with `suggestions`); 409: a shipped profile; 413: body over the
size cap; 414: request target over 8 KiB; 415: a body not declared `application/json`; 422: an invalid
parameter or body (`problems` lists each field); 429: another report is being prepared (`Retry-After`);
431: more than 100 headers or over 32 KiB of them; 500: internal error.

**Text.** {TEXT_RULE}
"""


def _version() -> str:
    try:
        return version("matchmaker")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


DOCS_ASSETS = "/docs/assets"  # Swagger UI's script and styles, served by this app

# ``matchmaker serve --workers N``: each worker process builds its app from the parent's settings.
SETTINGS_VARIABLE = "_MATCHMAKER_WORKER_SETTINGS"  # not MATCHMAKER_*: no setting of its own
FACTORY = "matchmaker.service.app:create_worker_app"
# The HTTP protocol `matchmaker serve` runs (caps and JSON errors while a request arrives), by name:
# uvicorn's worker processes import it.
PROTOCOL = "matchmaker.service.protocol:LimitedHttpToolsProtocol"


def create_worker_app() -> FastAPI:
    """The app of one of several worker processes, from the settings the parent passed in the environment."""
    return create_app(ServiceSettings.model_validate_json(os.environ[SETTINGS_VARIABLE]))


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The service for ``settings`` (default: configuration from the environment).

    The profile folder is loaded, the database opened and the population fitted here, once.
    """
    settings = settings or load_service_settings()
    service = Service.start(settings)

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        started.state.jobs.start()  # scheduling jobs: the first sweep recovers those a stopped worker left
        # The fitted population is hundreds of thousands of objects that live as long as the process: the
        # collector need not walk them again each time requests allocate (a full pass costs tens of ms
        # at 10,000 organisations, and writes allocate enough to trigger them often).
        gc.freeze()
        yield
        started.state.jobs.stop()
        service.close()

    # FastAPIOffline: the interactive docs load Swagger UI and ReDoc from the installed package, not a CDN.
    app = FastAPIOffline(
        title="matchmaker",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
        default_response_class=errors.JSONBody,
        static_url=DOCS_ASSETS,
        dependencies=[Depends(refuse_unknown_query_parameters)],  # a misspelt filter is an error, not ignored
    )
    app.state.service = service
    app.include_router(health)
    app.include_router(router)
    app.include_router(report_router)
    event_routes.install(app)  # events, their scheduling jobs, schedules and agendas
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(RequestLimits)  # outermost: over-long or over-many headers never reach the rest

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            dimensions = tuple(service.vocabulary.dimensions)
            app.openapi_schema = apply_vocabulary(schema, service.vocabulary, weights_pattern(dimensions))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
