"""Persistence: engine, models, migrations and queries. Knows nothing of Slack."""
