"""`flask crowd push-outbox`: the pushes the offline provider kept, newest first."""

from __future__ import annotations

import json

import click

from crowd.cli import crowd_cli
from notifications.push import outbox


@crowd_cli.command("push-outbox")
@click.option("--user", "user_id", type=int, default=None, help="Only this user's pushes.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def push_outbox(user_id: int | None, limit: int) -> None:
    """Print the pushes kept instead of sent (PUSH_PROVIDER=offline), newest first."""
    for entry in outbox.latest(user_id=user_id, limit=limit):
        click.echo(
            f"{entry.created_at:%Y-%m-%d %H:%M:%S} user {entry.user_id} {entry.platform} "
            f"…{entry.token_tail} [{entry.kind}] {entry.title} — {entry.body} "
            f"badge={entry.badge} data={json.dumps(entry.data, sort_keys=True)}"
        )
