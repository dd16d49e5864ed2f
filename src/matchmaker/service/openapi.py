"""Print the OpenAPI contract for the shipped profiles; the committed ``api/openapi.json`` is its output::

    python -m matchmaker.service.openapi > api/openapi.json

A test keeps the file identical to what the app serves at ``/openapi.json``.
"""

from __future__ import annotations

import json
import sys

from matchmaker.service.app import create_app
from matchmaker.settings import ServiceSettings


def main() -> None:
    """Print the contract for the shipped profiles (an in-memory database; nothing is written)."""
    app = create_app(ServiceSettings(database_url="sqlite://", profiles=None))
    sys.stdout.write(json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
