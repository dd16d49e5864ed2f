"""API keys for writes: ``Authorization: Bearer <key>``, keys from configuration, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False, description="An API key from the server's configuration (api_keys).")


def key_matches(given: str, keys: list[str]) -> bool:
    """True if ``given`` equals one of ``keys``; every key is compared, each in constant time.

    >>> key_matches("s3cret", ["other", "s3cret"]), key_matches("s3cre", ["s3cret"])
    (True, False)
    """
    candidate = given.encode("utf-8", "surrogatepass")
    found = False
    for key in keys:
        found |= hmac.compare_digest(candidate, key.encode("utf-8", "surrogatepass"))
    return found


async def require_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """Allow the request only with a configured API key; refuse every write when none is configured."""
    keys: list[str] = request.app.state.service.settings.api_keys
    disabled = (
        "writes are disabled: this server has no API key configured (set MATCHMAKER_API_KEYS to a JSON "
        "list of keys, or api_keys in the config file)"
    )
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(
            401,
            disabled if not keys else "this operation needs an API key: send 'Authorization: Bearer <key>'",
            headers=challenge,
        )
    if not keys:
        raise HTTPException(403, disabled)
    if not key_matches(credentials.credentials, keys):
        raise HTTPException(401, "the API key is not valid", headers=challenge)
