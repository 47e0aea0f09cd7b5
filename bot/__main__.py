"""``python -m bot`` is the terminal, as ``consdb-bot`` is."""

from bot.cli import main

main()
