"""People's data: the export of a workspace's tips, a person's own data, forgetting a person, people
deactivated in Slack, and the workspace's data when the app is uninstalled."""
