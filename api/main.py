"""``uvicorn api.main:app`` from the repository root: the service, configured from the environment."""

from matchmaker.service import create_app

app = create_app()
