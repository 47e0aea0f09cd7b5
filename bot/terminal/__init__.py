"""The operator's terminal, ``consdb-bot COMMAND ...``: parses, calls the application, renders.

It may import everything in ``bot``, and ``handlers`` (``serve`` starts the Slack surface).
"""
