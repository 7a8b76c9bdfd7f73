"""Named errors of support: closed tickets, refused ticket actions, disputes, resolutions.

A dispute of a job not yet completed is refused with jobs' job-not-disputable.
"""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l

# --- tickets -------------------------------------------------------------------------------


class TicketStateConflict(Conflict):
    """The ticket's state does not allow this action now; `state` is the ticket's state."""

    title, type_slug = _l("Ticket state does not allow this"), "ticket-state-conflict"


class TicketClosed(TicketStateConflict):
    """The ticket is closed: final, no messages or changes; open a follow-up ticket."""

    title, type_slug = _l("Ticket closed"), "ticket-closed"


def ticket_refusal(ticket_status: str) -> type[TicketStateConflict]:
    """The error for an action the ticket's state does not allow, by that state."""
    return TicketClosed if ticket_status == "closed" else TicketStateConflict


class NoPartyToWaitOn(Conflict):
    """The ticket has no customer (or member) whose answer it could wait on."""

    title, type_slug = _l("No party to wait on"), "no-party-to-wait-on"


class DisputeNeedsResolution(Conflict):
    """A dispute holds the job's money: settle it with a resolution, not a plain resolve."""

    title, type_slug = _l("Dispute needs a resolution"), "dispute-needs-resolution"


class TicketNotClosed(Conflict):
    """A ticket is rated once it is closed; `state` is the ticket's state."""

    title, type_slug = _l("Ticket not closed"), "ticket-not-closed"


class AlreadyRated(Conflict):
    """The caller's side has rated this ticket already."""

    title, type_slug = _l("Already rated"), "already-rated"


# --- disputes ------------------------------------------------------------------------------


class AlreadyDisputed(Conflict):
    """The job is disputed in another open ticket already; add to that ticket."""

    title, type_slug = _l("Job already disputed"), "already-disputed"


# --- resolutions ---------------------------------------------------------------------------


class ResolutionNotOpen(Conflict):
    """The proposal is no longer open (accepted, rejected, withdrawn …); `state` says which."""

    title, type_slug = _l("Resolution not open"), "resolution-not-open"


class ProposalOnHold(Conflict):
    """The ticket was escalated meanwhile: the proposal waits until staff take it over."""

    title, type_slug = _l("Proposal on hold"), "proposal-on-hold"


class ProposalAlreadyAnswered(Conflict):
    """The caller's side has answered this proposal already."""

    title, type_slug = _l("Proposal already answered"), "proposal-already-answered"


class TicketNotAboutJob(Conflict):
    """The ticket is not about a job: there is nothing to settle with a resolution."""

    title, type_slug = _l("Ticket not about a job"), "ticket-not-about-a-job"


class SettlementNotPossible(Conflict):
    """The job or its payment does not allow this kind of resolution (not disputed, no
    payment, a chargeback decides, or nothing left to refund)."""

    title, type_slug = _l("Settlement not possible"), "settlement-not-possible"


class ProposalNoLongerFits(Conflict):
    """The job's payment moved since the proposal so that it no longer fits; propose again."""

    title, type_slug = _l("Proposal no longer fits"), "proposal-no-longer-fits"
