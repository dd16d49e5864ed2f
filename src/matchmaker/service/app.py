"""The FastAPI application: routes, error handlers, the body-size cap, CORS and the contract."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from matchmaker.service import errors
from matchmaker.service.contract import apply_vocabulary
from matchmaker.service.limits import BodySizeLimit
from matchmaker.service.params import weights_pattern
from matchmaker.service.report_routes import router as report_router
from matchmaker.service.routes import health, router
from matchmaker.service.schemas import TEXT_RULE
from matchmaker.service.state import Service
from matchmaker.settings import Settings, load_settings

DESCRIPTION = f"""Complementary partner recommendations between AI organisations: what one offers meets
what the other needs, per dimension, with the evidence behind every reason. The JSON shapes are those of
the CLI's `--format json`.

**Authentication.** Reads are open. Writes (PUT and DELETE on an organisation, POST /v1/feedback) need
`Authorization: Bearer <key>` with a key from the server's configuration (`MATCHMAKER_API_KEYS`); a server
without a configured key refuses every write (401 without a key, 403 with one).

**Errors.** Every error is JSON with a `detail`. 400: the body is not JSON; 401: missing or wrong key;
403: writes disabled (no key configured); 404: unknown organisation (with `suggestions`); 409: a shipped
profile; 413: body over the size cap; 422: an invalid parameter or body (`problems` lists each field);
500: internal error.

**Text.** {TEXT_RULE}
"""


def _version() -> str:
    try:
        return version("matchmaker")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


# ``matchmaker serve --workers N``: each worker process builds its app from the parent's settings.
SETTINGS_VARIABLE = "_MATCHMAKER_WORKER_SETTINGS"  # not MATCHMAKER_*: no setting of its own
FACTORY = "matchmaker.service.app:create_worker_app"


def create_worker_app() -> FastAPI:
    """The app of one of several worker processes, from the settings the parent passed in the environment."""
    return create_app(Settings.model_validate_json(os.environ[SETTINGS_VARIABLE]))


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: configuration from the environment).

    The profile folder is loaded, the database opened and the population fitted here, once.
    """
    settings = settings or load_settings()
    service = Service.start(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="matchmaker",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
        default_response_class=errors.JSONBody,
    )
    app.state.service = service
    app.include_router(health)
    app.include_router(router)
    app.include_router(report_router)
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            dimensions = tuple(service.vocabulary.dimensions)
            app.openapi_schema = apply_vocabulary(schema, service.vocabulary, weights_pattern(dimensions))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
