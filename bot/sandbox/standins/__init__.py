"""Stand-ins for the services the bot talks to, speaking their HTTP APIs as they do: Slack's Web API,
Kubernetes' API server, Jira's REST API, pqserver and a TAP service's sync endpoint. The sandbox runs on
them, and so do the tests."""
