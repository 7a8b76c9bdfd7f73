"""`flask crowd load-catalogue`: the skill catalogue (categories and skills)."""

from __future__ import annotations

import click

from crowd.cli import crowd_cli
from crowd.core.db import commit
from members.service import sync_catalogue


@crowd_cli.command("load-catalogue")
def load_catalogue() -> None:
    """Create or update the skill catalogue (categories and skills)."""
    created = sync_catalogue()
    commit()
    click.echo(f"catalogue in place ({created} new skills)")
