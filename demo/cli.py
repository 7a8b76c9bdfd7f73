"""`flask crowd seed-demo`: the skill catalogue and a realistic demo crowd."""

from __future__ import annotations

import click

from crowd.cli import crowd_cli
from demo import seed as seed_demo_data


@crowd_cli.command("seed-demo")
@click.option("--members", default=400, show_default=True, help="How many crowd members.")
@click.option("--customers", default=60, show_default=True)
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same crowd).")
def seed_demo(members: int, customers: int, seed: int) -> None:
    """Load the skill catalogue and a realistic demo crowd (idempotent)."""
    summary = seed_demo_data(members=members, customers=customers, seed=seed, echo=click.echo)
    click.echo(summary)
