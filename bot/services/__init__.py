"""The services: change requests and their runs, test-stand bookings, Jira tickets, reports, and the
scheduler they share. They know nothing of Slack or the terminal: they return results and emit
events, which the surfaces render.

They may import the foundation modules, ``bot.store``, ``bot.engine`` and ``bot.clients``.
"""
