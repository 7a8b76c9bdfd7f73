"""Named errors of payouts: payout runs, payout accounts, the ledger, refunds and plans.

The provider's own refusals (payment-failed, payment-conflict, payment-provider-unavailable)
are in payouts.providers, next to the provider interface that raises them.
"""

from __future__ import annotations

from crowd.core.errors import BadRequest, Conflict, NotFound
from crowd.core.i18n import _l

# --- payout runs and accounts --------------------------------------------------------------


class RunAlreadyRequested(Conflict):
    """A payout run is requested and has not started yet; `run_id` names it."""

    title, type_slug = _l("Payout run already requested"), "run-already-requested"


class PayoutAccountMissing(NotFound):
    """The member has no payout account yet; POST /api/v1/me/payout-account creates one."""

    title, type_slug = _l("No payout account"), "payout-account-missing"


class PayoutAccountProviderRetired(Conflict):
    """The payout account was made with a payment provider no longer in use; support moves it."""

    title, type_slug = _l("Payout account at a retired provider"), "payout-account-provider-retired"


class PayoutAccountCountryMismatch(Conflict):
    """The payout account is registered in another country than the one sent."""

    title, type_slug = _l("Payout account in another country"), "payout-account-country-mismatch"


# --- customers' payments and refunds -------------------------------------------------------


class PaymentMethodMissing(NotFound):
    """The customer has no saved payment method yet."""

    title, type_slug = _l("No payment method"), "payment-method-missing"


class NothingCaptured(Conflict):
    """Nothing has been captured for the job, so nothing can be refunded; `state` is the
    payment's status."""

    title, type_slug = _l("Nothing captured"), "nothing-captured"


class PaymentDisputed(Conflict):
    """The payment is disputed at the card issuer; the dispute decides what goes back."""

    title, type_slug = _l("Payment disputed"), "payment-disputed"


class EvidenceNotAccepted(Conflict):
    """The chargeback takes no more evidence: it is closed, the evidence was submitted
    already, or the deadline (`due_at`) has passed; `state` is the dispute's status."""

    title, type_slug = _l("Evidence not accepted"), "evidence-not-accepted"


class RefundTooLarge(Conflict):
    """The refund exceeds what is captured and not yet refunded or being refunded."""

    title, type_slug = _l("Refund exceeds what is left"), "refund-too-large"


class WebhookSignatureInvalid(BadRequest):
    """A provider webhook whose signature is missing, old or does not match the body."""

    title, type_slug = _l("Webhook signature not valid"), "webhook-signature-invalid"


# --- the ledger ----------------------------------------------------------------------------


class InsufficientBalance(Conflict):
    """The posting would take an account that must not go negative below zero."""

    title, type_slug = _l("Insufficient balance"), "insufficient-balance"


class LedgerKeyUsed(Conflict):
    """The idempotency key was already used for a different transaction; `transaction_id`."""

    title, type_slug = _l("Ledger key used"), "ledger-key-used"


class AlreadyReversed(Conflict):
    """The transaction was reversed already; `transaction_id` names the reversal."""

    title, type_slug = _l("Already reversed"), "already-reversed"


class ReversalNotReversible(Conflict):
    """A reversal cannot itself be reversed; post a new transaction instead."""

    title, type_slug = _l("Reversal not reversible"), "reversal-not-reversible"


# --- commission plans ----------------------------------------------------------------------


class PlanExists(Conflict):
    """A commission plan with this code exists already."""

    title, type_slug = _l("Plan exists"), "plan-exists"


class PlanInUse(Conflict):
    """The amounts of a plan in use never change; create a new plan and assign it."""

    title, type_slug = _l("Plan in use"), "plan-in-use"


class StandardPlanStays(Conflict):
    """The standard plan is everyone's default and cannot be switched off."""

    title, type_slug = _l("Standard plan stays on"), "standard-plan-stays"


class PlanInactive(Conflict):
    """The plan is inactive and cannot be assigned."""

    title, type_slug = _l("Plan inactive"), "plan-inactive"


class PlanAssignmentOverlap(Conflict):
    """The plan assignment overlaps another of the member's assignments."""

    title, type_slug = _l("Plan assignments overlap"), "plan-assignment-overlap"
