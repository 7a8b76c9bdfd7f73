"""`flask crowd` commands of notifications: outbox (the emails the offline provider kept, no SMTP
relay configured) and push-outbox (notifications.push.cli)."""

from __future__ import annotations

import click
from sqlalchemy import select

from crowd.cli import crowd_cli
from crowd.extensions import db
from notifications.models import OutboundEmail
from notifications.push.cli import push_outbox  # noqa: F401  (registers the command)


@crowd_cli.command("outbox")
@click.argument("email_id", required=False, type=int)
@click.option("--last", "last", default=20, show_default=True, help="how many to list")
def outbox(email_id: int | None, last: int) -> None:
    """List the last kept emails, or show one (EMAIL_ID): headers and both parts."""
    if email_id is None:
        rows = db.session.scalars(
            select(OutboundEmail).order_by(OutboundEmail.id.desc()).limit(last)
        ).all()
        for row in rows:
            click.echo(
                f"{row.id:>6}  {row.created_at:%Y-%m-%d %H:%M}  {row.to_address}  {row.subject}"
            )
        if not rows:
            click.echo("no emails kept")
        return
    row = db.session.get(OutboundEmail, email_id)
    if row is None:
        raise click.ClickException(f"no email {email_id}")
    for name, value in (row.headers or {}).items():
        click.echo(f"{name}: {value}")
    click.echo("")
    click.echo(row.body)
    if row.html:
        click.echo("--- html ---")
        click.echo(row.html)
