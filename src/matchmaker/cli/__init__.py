"""The command line: ``matchmaker`` (``main``), one module per command group, shared context and options.

Modules: :mod:`.main` (the root and the registration of every group), :mod:`.context` (state,
consoles, errors), :mod:`.options`, :mod:`.output`, and the groups :mod:`.rank` (partners, pairs,
explain), :mod:`.profiles`, :mod:`.report`, :mod:`.serve`, :mod:`.synth`.
"""

from __future__ import annotations

from matchmaker.cli.main import app

__all__ = ["app"]
