"""Matchmaking events: the event model and the meeting scheduler (pure: data in, data out)."""
