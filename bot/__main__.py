"""``python -m bot`` is the terminal, as ``consdb-bot`` is."""

from bot.terminal.cli import main

main()
