"""Prometheus metrics, served on ``GET /metrics``."""

from prometheus_client import Counter

COMMANDS = Counter("consdb_bot_commands", "Slash commands received, by command", ["command"])
REQUESTS = Counter("consdb_bot_change_requests", "Change requests reaching a state, by state", ["state"])
