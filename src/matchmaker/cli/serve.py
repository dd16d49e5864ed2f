"""``matchmaker serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from matchmaker.cli.context import command_context, friendly_errors

WORKER_HEALTHCHECK_S = 120


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes (one per core suits a busy event). Each holds its own copy of the "
            "population; writes reach every process through the shared database.",
            min=1,
            max=64,
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (docs at /docs) on the profiles plus attendees registered in the database.

    Writes need an API key: set MATCHMAKER_API_KEYS='["a-long-random-key"]'. The database is
    matchmaker.db (MATCHMAKER_DATABASE) or MATCHMAKER_DATABASE_URL.

    Example: MATCHMAKER_API_KEYS='["s3cret"]' matchmaker serve --port 8000 --workers 2
    """
    import uvicorn

    from matchmaker.service import create_app
    from matchmaker.service.app import FACTORY, SETTINGS_VARIABLE
    from matchmaker.service.state import Service

    settings = command_context(ctx).settings
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    if not settings.api_keys:
        logging.getLogger("matchmaker.service").warning(
            "no API key configured (MATCHMAKER_API_KEYS): reads only, every write is refused"
        )
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # Fail here, once, on a bad profile folder or database, and create the tables before the workers
    # race to; each worker then builds its app from the same settings.
    Service.start(settings).close()
    os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # A worker reads the profiles and fits the population before it answers the supervisor's
        # health check: uvicorn's 5 s default kills one still starting on a busy machine.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(serve))
