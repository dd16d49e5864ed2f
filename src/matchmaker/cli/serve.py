"""``matchmaker serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import errno
import logging
import os
import socket
from typing import Annotated

import typer

from matchmaker.cli.context import command_context, friendly_errors
from matchmaker.core.errors import MatchmakerError

WORKER_HEALTHCHECK_S = 120
BACKLOG = 2048  # uvicorn's default


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, as uvicorn binds one; MatchmakerError if it cannot be.

    Taken before the population is fitted, so a busy port is reported at once, and handed to uvicorn,
    so no other process can take the port in between.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as err:
        sock.close()
        where = f"{host}:{port}"
        if err.errno == errno.EADDRINUSE:
            raise MatchmakerError(
                f"port {port} on {host} is already in use (another matchmaker serve?); stop it or choose --port"
            ) from None
        if err.errno in (errno.EACCES, errno.EPERM):
            raise MatchmakerError(f"not allowed to listen on {where}; ports below 1024 need privileges") from None
        raise MatchmakerError(f"cannot listen on {where}: {err.strerror}") from None
    except (socket.gaierror, UnicodeError) as err:
        sock.close()
        raise MatchmakerError(f"cannot listen on host {host!r}: {err}; give an IP address or a host name") from None
    sock.set_inheritable(True)
    return sock


def _warn_without_keys(keys: list[str]) -> None:
    if not keys:
        logging.getLogger("matchmaker.service").warning(
            "no API key configured (MATCHMAKER_API_KEYS): reads only; writes and reports are refused"
        )


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

    Writes need an API key: set MATCHMAKER_API_KEYS=a-long-random-key (several: separated by commas).
    The database is matchmaker.db (MATCHMAKER_DATABASE) or MATCHMAKER_DATABASE_URL.

    Example: MATCHMAKER_API_KEYS=s3cret matchmaker serve --port 8000 --workers 2
    """
    import uvicorn

    from matchmaker.service import create_app
    from matchmaker.service.app import FACTORY, PROTOCOL, SETTINGS_VARIABLE
    from matchmaker.service.state import Service

    settings = command_context(ctx).service_settings
    sock = listening_socket(host, port)  # before the slow part: a busy port is one line, at once
    try:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
        options = {"host": host, "port": port, "fd": sock.fileno(), "http": PROTOCOL, "log_level": "info"}
        if workers == 1:
            app = create_app(settings)
            _warn_without_keys(settings.api_keys)
            uvicorn.run(app, **options)  # type: ignore[arg-type]
            return
        # Fail here, once, on a bad profile folder or database, and create the tables before the workers
        # race to; each worker then builds its app (and fits its population) from the same settings.
        Service.prepare(settings)
        _warn_without_keys(settings.api_keys)
        os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
        uvicorn.run(
            FACTORY,
            factory=True,
            workers=workers,
            # A worker reads the profiles and fits the population before it answers the supervisor's
            # health check: uvicorn's 5 s default kills one still starting on a busy machine.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            **options,  # type: ignore[arg-type]
        )
    finally:
        sock.close()


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(serve))
