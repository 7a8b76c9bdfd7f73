"""What payouts plugs into the packages below it, which know nothing of payments:

- jobs.dispatch: no work without an authorised payment — a job is offered to members only
  once its payment is authorised (JOB_PAYMENTS_AUTHORISE_BEFORE_DISPATCH, on by default).
  The payment's state says why a job waits; the customer reads it at GET /jobs/{id}/payment
  (with what their client needs to complete a 3-D Secure authentication). Customers invoiced
  by agreement (customers.billing "invoice") pass without an authorisation.
"""

from __future__ import annotations

from jobs.dispatch import add_dispatch_gate
from jobs.models import Job
from payouts.config import job_payment_rules
from payouts.job_money.payments import on_posted, payment_of

# Why a job whose payment is in this state is not offered (the customer can act on each).
HELD_BECAUSE = {
    "pending": "Waiting for the payment to be authorised.",
    "requires_payment_method": "No payment method on file: save one to have the job offered.",
    "requires_action": "Your bank asks you to confirm the payment before the job is offered.",
    "failed": "The payment was not authorised: save another payment method.",
}
# Authorised — or invoiced by agreement (business customers with payment terms).
READY = ("authorized", "captured", "invoiced")


def payment_not_authorised(job: Job) -> str | None:
    """The reason to hold `job` back from dispatch, or None when its payment is authorised."""
    if not job_payment_rules().authorise_before_dispatch:
        return None
    # A job posted before the rule (or without its event) gets its payment started now.
    payment = payment_of(job.id) or on_posted(job)
    if payment.status in READY:
        return None
    return HELD_BECAUSE.get(payment.status, f"The payment is {payment.status}.")


add_dispatch_gate(payment_not_authorised)
