"""Prometheus metrics, served on ``GET /metrics``."""

from prometheus_client import Counter, Gauge, Histogram

COMMANDS = Counter("consdb_bot_commands", "Slash commands received, by command", ["command"])
REQUESTS = Counter("consdb_bot_change_requests", "Change requests reaching a state, by state", ["state"])
SCHEDULER_LEADER = Gauge("consdb_bot_scheduler_leader", "1 while this process runs the scheduled jobs")
ANNOUNCEMENTS = Counter("consdb_bot_announcements", "Scheduled announcements posted, by kind", ["kind"])
JIRA_COMMENTS = Counter("consdb_bot_jira_comments", "Attempts at Jira comments, by how they ended", ["outcome"])
APPROVALS = Counter(
    "consdb_bot_approvals", "Approvals and rejections counted, given or withdrawn", ["verdict", "action"]
)
CHANGES = Counter(
    "consdb_bot_changes", "Changes run (migrations, stamps, restarts), by kind and outcome", ["kind", "outcome"]
)
CHANGE_SECONDS = Histogram(
    "consdb_bot_change_seconds", "How long a change ran, by kind", ["kind"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)  # fmt: skip
API_ERRORS = Counter("consdb_bot_api_errors", "Errors answered by Slack, Kubernetes and Jira, by API", ["api"])
