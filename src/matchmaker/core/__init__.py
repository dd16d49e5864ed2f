"""The pure core: profile model, vectoriser, scorer, ranking and explanations.

Nothing here reads files, the environment or the network, and nothing imports typer, fastapi or
sqlalchemy (a ruff rule enforces it): data in, data out.
"""
