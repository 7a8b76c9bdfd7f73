"""Resolutions: how mediation settles a ticket about a job, the money moving in one transaction.

A community manager proposes a resolution; the ticket moves to resolution_proposed and each
party may answer once. Both parties accepting applies it at once; a rejection sends the ticket
back to mediation. Nobody rejecting by `respond_by` applies it anyway — the default outcome —
through the task support.apply_due_resolutions (queued for respond_by when proposing; its
periodic run is the safety net). Until it has been applied a late answer still counts: an
explicit answer beats a default. Staff may withdraw a proposal, or impose it now.

Kinds (amounts in minor units of the job's currency):
    full_refund     the customer gets back all that is left of the price; the member earns
                    nothing. A job disputed before it was ever confirmed is cancelled instead
                    ("resolve_cancel"): its authorisation is released, nothing is captured.
    partial_refund  refund_amount goes back; the member keeps the rest of their earning in
                    proportion (the refund reverses the split proportionally).
    split           a partial refund of price × customer_share_percent / 100, rounded half up.
    release         the member is paid in full; nothing goes back.
    goodwill        the member is paid in full, and the platform pays the customer
                    goodwill_amount from its own pocket: a provider refund of the job's
                    payment (the customer really gets it) posted as platform:goodwill against
                    clearing, so the split stays whole and the books balance.

Applying takes the locks ticket → resolution → job → payment and checks everything before it
writes. The job leaves `disputed` (jobs lifecycle "resolve" → confirmed, as the staff who
proposed it), which lifts the payout hold; a job never confirmed is confirmed now, so its
payment is captured and settled (payouts.job_money.on_confirmed). The refund or goodwill credit
becomes a pending JobRefund keyed job-{id}-resolution-{rid} that payouts makes once the payment
is settled: at once if it is, else right after the capture. Whichever path, the ledger shows the
settlement, then the refund's reversal (the customer's money; the platform's commission back in
proportion; the member keeps the rest) or the goodwill posting — each once, under its key. A
member at fault loses the dispute (disputes_lost, which levels read). The ticket is resolved.

While a chargeback is open on the payment, no resolution is proposed or applied: the bank
decides that money. A proposal whose ticket is escalated waits until it is taken over; one the
money outgrew by its deadline (e.g. refunded by hand meanwhile) escalates the ticket instead of
applying. Should a payout run come between applying and the provider's refund (an outage), the
member is paid their full earning and the refund books their share as owed
(member:{id}:receivable), settled from later earnings — as for any late refund.
"""

from support.resolutions.applying import DEADLINE_TASK, apply_due_resolutions
from support.resolutions.money import split_refund
from support.resolutions.preview import preview
from support.resolutions.proposals import (
    answer_proposal,
    impose,
    list_resolutions,
    propose,
    withdraw,
)

__all__ = [
    "DEADLINE_TASK",
    "answer_proposal",
    "apply_due_resolutions",
    "impose",
    "list_resolutions",
    "preview",
    "propose",
    "split_refund",
    "withdraw",
]
