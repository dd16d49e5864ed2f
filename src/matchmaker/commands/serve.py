"""``matchmaker serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

COMMAND_NAME = "serve"


def command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the HTTP API (docs at /docs) on the profiles plus attendees registered in the database.

    Writes need an API key: set MATCHMAKER_API_KEYS='["a-long-random-key"]'. The database is
    matchmaker.db (MATCHMAKER_DATABASE) or MATCHMAKER_DATABASE_URL.

    Example: MATCHMAKER_API_KEYS='["s3cret"]' matchmaker serve --port 8000
    """
    import uvicorn

    from matchmaker.service import create_app
    from matchmaker.settings import load_settings

    root = ctx.find_root().obj
    # The global --config/--profiles options, when the CLI's state carries them.
    config, profiles = getattr(root, "config", None), getattr(root, "profiles_option", None)
    settings = load_settings(config, profiles=profiles)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    app = create_app(settings)
    if not settings.api_keys:
        logging.getLogger("matchmaker.service").warning(
            "no API key configured (MATCHMAKER_API_KEYS): reads only, every write is refused"
        )
    uvicorn.run(app, host=host, port=port, log_level="info")
