"""``consdb-bot sandbox``: the whole bot on one machine, without a Slack workspace or a cluster."""
