"""The HTTP API the events app calls: ``create_app(settings)`` builds it; ``matchmaker serve`` runs it."""

from matchmaker.service.app import create_app

__all__ = ["create_app"]
