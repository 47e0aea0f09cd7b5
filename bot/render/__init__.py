"""Pure functions from results and events to text: ``text`` for the terminal, ``blocks`` for Slack's
Block Kit, and per surface the renderer of every application result (``terminal``, ``slack``).
Nothing here reads a database or sends anything.

They may import the foundation modules, the result types of ``bot.store``, ``bot.engine``,
``bot.clients`` and ``bot.services``, and ``bot.application``'s results.
"""
