"""`flask crowd authenticate-payment`: the offline provider's simulated 3-D Secure, completed."""

from __future__ import annotations

import click

from crowd.cli import crowd_cli
from crowd.core.background import enqueue
from crowd.core.db import commit
from payouts.job_money.payments import REFRESH_TASK, payment_of
from payouts.providers import get_provider
from payouts.providers.offline import OfflineProvider, complete_authentication


@crowd_cli.command("authenticate-payment")
@click.argument("job_id", type=int)
@click.option("--fail", is_flag=True, help="The customer fails the bank's challenge.")
def authenticate_payment(job_id: int, fail: bool) -> None:
    """Development only (offline payments): answer the bank's challenge of a job's payment
    waiting in requires_action, as the customer would in their app; the job then goes out
    (or stays on hold)."""
    if not isinstance(get_provider(), OfflineProvider):
        raise click.ClickException("Only with offline payments (no STRIPE_API_KEY).")
    payment = payment_of(job_id)
    if payment is None or payment.status != "requires_action":
        raise click.ClickException(f"Job {job_id}'s payment is not waiting for authentication.")
    result = complete_authentication(payment.provider_payment_id, succeed=not fail)
    enqueue(REFRESH_TASK, job_id=job_id)
    commit()
    click.echo(f"job {job_id}: the payment intent is {result.status}")
