"""`flask crowd` commands of notifications: push-outbox (notifications.push.cli)."""

from notifications.push.cli import push_outbox  # noqa: F401  (registers the command)
