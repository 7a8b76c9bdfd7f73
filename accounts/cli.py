"""`flask crowd create-admin`: the first admin account has to come from here."""

from __future__ import annotations

import click

from accounts import service
from crowd.cli import crowd_cli
from crowd.core.db import commit
from crowd.core.errors import DomainError


@crowd_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="Admin", show_default=True)
@click.password_option(envvar="CROWD_ADMIN_PASSWORD")
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create an admin account (the first one has to come from here)."""
    try:
        if len(password) < 10:
            raise click.BadParameter("must be at least 10 characters", param_hint="password")
        user = service.create_staff(
            actor_id=None, email=email, password=password, display_name=display_name, role="admin"
        )
        commit()
    except DomainError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"admin {user.email} created (id {user.id})")
