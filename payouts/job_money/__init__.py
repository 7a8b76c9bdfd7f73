"""The money of a job: authorised when it is posted, captured and split on confirmation.

Stripe Connect with separate charges and transfers: the customer's card is authorised on the
platform (manual capture, `transfer_group` "job-{id}") when the job is posted — no offer goes
out before (payouts.wiring's dispatch gate; JOB_PAYMENTS_AUTHORISE_BEFORE_DISPATCH off: when a
member is assigned) — captured when the job is confirmed, and the capture is split in the
ledger at once — the price into payment clearing, the platform's commission
(payouts.plans.commission_for at the moment of confirmation, perks applied) and the member's
earning to their payable. Members are paid later by the payout run's transfers.

The hooks (`on_posted`, `on_assigned`, `on_confirmed`, `on_cancelled`) run as payouts.events'
subscribers of job.posted, job.assigned, job.confirmed and job.cancelled, inside the unit of
work that moved the job; they only write our rows and enqueue tasks, so no provider call ever
runs in a request's transaction. The tasks lock the job's payment row, call the provider with an
idempotency key derived from our ids, and post to the ledger under a key derived from the
job — so a task that runs twice, or dies after the provider answered, does its work once:
the provider replays the first answer for the key and the ledger returns the first posting.

A payment waits for the customer in requires_action when their bank asks them to authenticate
(3-D Secure / SCA): the intent's next action and client secret are shown to them alone at
GET /jobs/{id}/payment, and the job is offered once the webhook or their refresh (POST
/jobs/{id}/payment/refresh) finds it authorised. Holds are renewed before they lapse and a
lapsed one is authorised again (payouts.job_money.reauthorise); a failed authorisation pauses
dispatch (pending offers withdrawn; an assigned job stays assigned, community managers told).
Business customers invoiced by agreement (customers.billing "invoice") are not authorised at
all: their payment is `invoiced`, and on confirmation the price is booked to
`customer:{id}:receivable` instead of clearing, split the same way, due after their terms.

Keys (attempt n > 1 is a new authorisation after a decline, a lapsed or a renewed hold; its
provider calls carry "-{n}"):
    provider  authorise job-{id}-authorize    capture job-{id}-capture    release job-{id}-cancel
              a renewed hold's predecessor released job-{id}-release-{old intent id}
              late fee job-{id}-cancellation-fee    refund job-{id}-refund-{n}
              a ticket's resolution job-{id}-resolution-{rid}, its goodwill credit …-goodwill
    ledger    split job-{id}-settlement    late fee job-{id}-cancellation-fee
              refund job-{id}-refund-{n}, or provider-refund-{refund id} for one made outside
              our API (a refund's ledger key is its provider key)    lost chargeback
              dispute-{dispute id}-lost

Late-cancellation fees are captured from the authorisation (the rest is released) and split
like a job of the fee's price: the member kept the slot free and may have been on the way,
so the fee compensates them, and the platform keeps the commission their plan takes on any
earning, booked as a fee (platform:fees) rather than job commission.

Refunds reverse the split proportionally and cumulatively: after refunds totalling R of a
capture C with commission K the platform has given back prorate(K, R, C) (half up), the
member the rest — so any sequence of partial refunds sums exactly to the split, and a full
refund undoes it entirely. A member's payable never goes below zero: the part of their share
already paid out is booked to `member:{id}:receivable`, what they owe the platform, for the
payout run to settle against later earnings.

Webhooks only reconcile our record of the payment (never backwards: a stale event about an
earlier state is ignored); any ledger posting they make necessary runs in the same keyed code
as the tasks, so nothing is posted twice. A chargeback marks the payment disputed and moves
the job to `disputed` when its state allows (else it is only recorded); the money the bank
withdraws and reinstates is booked through clearing:disputes, and a lost one is allocated once
by PAYMENTS_CHARGEBACK_LOST_POLICY (the platform, or the member up to their earning) — see
job_money.chargebacks. `open_dispute_member_ids` tells the payout run whom to hold.
"""

from payouts.job_money.payments import (
    AUTHORIZE_TASK,
    CANCEL_TASK,
    CAPTURE_TASK,
    REFUND_TASK,
    authorize,
    cancel,
    capture,
    key_for,
    on_assigned,
    on_cancelled,
    on_confirmed,
    on_posted,
    payment_method_changed,
    payment_of,
    saved_method,
    transfer_group,
)
from payouts.job_money.refunds import execute_refund, is_goodwill, queue_refund, request_refund
from payouts.job_money.sweep import sweep
from payouts.job_money.views import open_dispute_member_ids, payment_view

__all__ = [
    "AUTHORIZE_TASK",
    "CANCEL_TASK",
    "CAPTURE_TASK",
    "REFUND_TASK",
    "authorize",
    "cancel",
    "capture",
    "execute_refund",
    "is_goodwill",
    "key_for",
    "on_assigned",
    "on_cancelled",
    "on_confirmed",
    "on_posted",
    "open_dispute_member_ids",
    "payment_method_changed",
    "payment_of",
    "payment_view",
    "queue_refund",
    "request_refund",
    "saved_method",
    "sweep",
    "transfer_group",
]
