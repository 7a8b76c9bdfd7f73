"""The console's words for the domain's states: a job's "in_progress" reads "in progress"
(German: whatever the catalogue says). One place for all of them, so that every state a page
shows is in the catalogue (`N_` marks them for `make i18n-extract`); templates use the filter
`{{ job.status|state }}`, which console.web registers for console pages.

The words come from the models' status tuples and check constraints: jobs and offers, job
payments, refunds and chargebacks (the provider's dispute statuses), payouts, payout runs and
monthly fees, applications with their steps, document checks, intro calls and skill-test
attempts, level rulesets, tickets and resolutions, members and referrals, mentorships, events and
invitations, broadcasts and their deliveries, help-centre articles, topic reports and
top-performer runs. A value not listed here is shown as it is.
"""

from __future__ import annotations

from crowd.core.i18n import N_, _

STATE_LABELS: dict[str, str] = {
    # jobs (jobs.models.JOB_STATUSES)
    "open": N_("open"),
    "offered": N_("offered"),
    "assigned": N_("assigned"),
    "in_progress": N_("in progress"),
    "completed": N_("completed"),
    "confirmed": N_("confirmed"),
    "closed": N_("closed"),
    "cancelled": N_("cancelled"),
    "disputed": N_("disputed"),
    # offers, referrals, invitations, resolutions, refunds, fees, notifications
    "pending": N_("pending"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "expired": N_("expired"),
    "withdrawn": N_("withdrawn"),
    # job payments (payouts.models.job_payments) and offline payments
    "requires_payment_method": N_("requires payment method"),
    "requires_action": N_("requires action"),
    "requires_capture": N_("requires capture"),
    "authorized": N_("authorized"),
    "invoiced": N_("invoiced"),
    "captured": N_("captured"),
    "partially_refunded": N_("partially refunded"),
    "refunded": N_("refunded"),
    "succeeded": N_("succeeded"),
    "canceled": N_("cancelled"),
    # chargebacks: the provider's dispute statuses and their outcomes
    "needs_response": N_("needs response"),
    "under_review": N_("under review"),
    "warning_needs_response": N_("warning, needs response"),
    "warning_under_review": N_("warning, under review"),
    "warning_closed": N_("warning closed"),
    "opened": N_("opened"),
    "won": N_("won"),
    "lost": N_("lost"),
    # payouts, payout runs, monthly fees, bank payouts, webhook events
    "in_transit": N_("in transit"),
    "paid": N_("paid"),
    "failed": N_("failed"),
    "held": N_("held"),
    "released": N_("released"),
    "requested": N_("requested"),
    "sending": N_("sending"),
    "billed": N_("billed"),
    "received": N_("received"),
    "processed": N_("processed"),
    "ignored": N_("ignored"),
    # applications, their steps, documents, intro calls, skill-test attempts, rulesets
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "submitted": N_("submitted"),
    "verified": N_("verified"),
    "scheduled": N_("scheduled"),
    "done": N_("done"),
    "not_required": N_("not required"),
    "passed": N_("passed"),
    "no_show": N_("no show"),
    "started": N_("started"),
    "retired": N_("retired"),
    # tickets and resolutions (support.models)
    "new": N_("new"),
    "waiting_on_customer": N_("waiting on customer"),
    "waiting_on_member": N_("waiting on member"),
    "in_mediation": N_("in mediation"),
    "resolution_proposed": N_("resolution proposed"),
    "resolved": N_("resolved"),
    "escalated": N_("escalated"),
    "proposed": N_("proposed"),
    "applied": N_("applied"),
    # members (members.models.MEMBER_STATUSES) and referrals
    "applicant": N_("applicant"),
    "active": N_("active"),
    "paused": N_("paused"),
    "suspended": N_("suspended"),
    "offboarded": N_("offboarded"),
    "review": N_("in review"),
    "rewarded": N_("rewarded"),
    "refused": N_("refused"),
    "lapsed": N_("lapsed"),
    # mentorships, events, invitations, top-performer runs
    "graduated": N_("graduated"),
    "ended": N_("ended"),
    "eligible": N_("eligible"),
    "invited": N_("invited"),
    "attended": N_("attended"),
    "running": N_("running"),
    # broadcasts, deliveries, articles, topic reports
    "draft": N_("draft"),
    "published": N_("published"),
    "archived": N_("archived"),
    "sent": N_("sent"),
    "queued": N_("queued"),
    "suppressed": N_("suppressed"),
    "upheld": N_("upheld"),
    "dismissed": N_("dismissed"),
    # provider companies: roles and memberships (organisations.models)
    "owner": N_("owner"),
    "dispatcher": N_("dispatcher"),
    "technician": N_("technician"),
    "left": N_("left"),
    "removed": N_("removed"),
}


def state_label(value: str | None) -> str:
    """`value`'s label in the current locale; an unknown value as it is, none as "–"."""
    if value is None or value == "":
        return "–"
    label = STATE_LABELS.get(value)
    return _(label) if label is not None else value
