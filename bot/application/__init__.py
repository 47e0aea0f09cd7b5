"""The application layer: one path from a parsed command to its typed result, whichever surface asked.

:meth:`Application.run` routes every command in one place; the terminal and Slack only parse, call
it, and render what it returns. It may import the foundation modules, ``bot.store``, ``bot.engine``,
``bot.clients`` and ``bot.services``; never a renderer or a surface.
"""

from bot.application.results import Actor, Result, Surface
from bot.application.run import Application, Services

__all__ = ["Actor", "Application", "Result", "Services", "Surface"]
