"""`flask crowd privacy …`: retention enforced now (or shown with --dry-run)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from crowd.cli import crowd_cli
from crowd.core.background import retry_on_contention
from privacy import enforcement

privacy_cli = AppGroup("privacy", help="Personal data: retention.")
crowd_cli.add_command(privacy_cli)


@privacy_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what is due; delete nothing.")
def retention(dry_run: bool) -> None:
    """Enforce the retention rules now (the daily task's work) and print per kind what was
    deleted, or with --dry-run what would be."""
    result = retry_on_contention(
        lambda: enforcement.enforce(dry_run=dry_run, cause="command"), what="retention"
    )
    verb = "due" if dry_run else "deleted"
    for outcome in result.outcomes:
        if outcome.action == "keep":
            click.echo(f"{outcome.kind}: kept ({outcome.keep_days} days: nothing due)")
        else:
            click.echo(
                f"{outcome.kind}: {outcome.count} {verb} "
                f"(older than {outcome.cutoff.isoformat(timespec='seconds')})"
            )
    if result.run_id is not None:
        click.echo(f"run {result.run_id}: {sum(result.counts.values())} deleted")
