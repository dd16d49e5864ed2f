"""The HTTP service's entry point (``uvicorn api.main:app``) and its OpenAPI contract (openapi.json)."""
