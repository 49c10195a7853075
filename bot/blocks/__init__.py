"""Block Kit builders: pure functions from data to blocks, within Slack's limits by construction."""
