"""Prometheus metrics, served on ``GET /metrics``."""

from prometheus_client import Counter, Gauge

COMMANDS = Counter("consdb_bot_commands", "Slash commands received, by command", ["command"])
REQUESTS = Counter("consdb_bot_change_requests", "Change requests reaching a state, by state", ["state"])
SCHEDULER_LEADER = Gauge("consdb_bot_scheduler_leader", "1 while this process runs the scheduled jobs")
ANNOUNCEMENTS = Counter("consdb_bot_announcements", "Scheduled announcements posted, by kind", ["kind"])
JIRA_COMMENTS = Counter("consdb_bot_jira_comments", "Attempts at Jira comments, by how they ended", ["outcome"])
