"""Named errors of jobs: offers that can no longer be answered, refused state changes, reviews."""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l

# --- offers --------------------------------------------------------------------------------


class OfferTaken(Conflict):
    """The job is no longer on offer: another member took it, or it was withdrawn from
    matching (cancelled); `state` is the offer's (withdrawn) or the job's."""

    title, type_slug = _l("Offer taken"), "offer-taken"


class OfferExpired(Conflict):
    """The offer's time to answer has passed."""

    title, type_slug = _l("Offer expired"), "offer-expired"


class OfferAlreadyAnswered(Conflict):
    """The offer was accepted or declined already; `state` says which."""

    title, type_slug = _l("Offer already answered"), "offer-already-answered"


class NoLongerEligible(Conflict):
    """The member no longer meets the job's conditions (level, skills, distance …)."""

    title, type_slug = _l("No longer eligible"), "no-longer-eligible"


class ScheduleClash(Conflict):
    """The job no longer fits the member's calendar: another job of theirs overlaps it."""

    title, type_slug = _l("Schedule clash"), "schedule-clash"


class DispatcherAccepts(Conflict):
    """The member is a technician of a provider company whose dispatcher accepts its offers
    (the company does not allow direct accepts): the dispatcher accepts and assigns."""

    title, type_slug = _l("Your company's dispatcher accepts"), "dispatcher-accepts"


def offer_refusal(offer_status: str) -> type[Conflict]:
    """The error for answering an offer that is no longer pending, by the offer's status."""
    return {"expired": OfferExpired, "withdrawn": OfferTaken}.get(
        offer_status, OfferAlreadyAnswered
    )


# --- the job's state machine ---------------------------------------------------------------


class JobStateConflict(Conflict):
    """The job's state does not allow this action now; `state` is the job's state."""

    title, type_slug = _l("Job state does not allow this"), "job-state-conflict"


class JobNotConfirmable(JobStateConflict):
    """Only a completed job can be confirmed; `state` is the job's state."""

    title, type_slug = _l("Job not confirmable"), "job-not-confirmable"


class JobNotCancellable(JobStateConflict):
    """The job is past the point where it can be cancelled; `state` is the job's state."""

    title, type_slug = _l("Job not cancellable"), "job-not-cancellable"


class JobNotStartable(JobStateConflict):
    """Only an assigned job can be started; `state` is the job's state."""

    title, type_slug = _l("Job not startable"), "job-not-startable"


class CheckInNotOpen(Conflict):
    """Too early to check in: `opens_at` says when check-in opens (before the window)."""

    title, type_slug = _l("Check-in not open yet"), "check-in-not-open"


class JobNotCompletable(JobStateConflict):
    """Only a job in progress can be completed; `state` is the job's state."""

    title, type_slug = _l("Job not completable"), "job-not-completable"


class JobNotDisputable(JobStateConflict):
    """Only a completed (or, for the customer, confirmed) job can be disputed."""

    title, type_slug = _l("Job not disputable"), "job-not-disputable"


class JobNotAssignable(JobStateConflict):
    """The job is past assignment (assigned, started or finished); `state` is its state."""

    title, type_slug = _l("Job not assignable"), "job-not-assignable"


class JobNotWithdrawable(JobStateConflict):
    """Only an assigned job, not yet started, can be given back by its member."""

    title, type_slug = _l("Job not withdrawable"), "job-not-withdrawable"


_REFUSED = {
    "confirm": JobNotConfirmable,
    "cancel": JobNotCancellable,
    "start": JobNotStartable,
    "complete": JobNotCompletable,
    "dispute": JobNotDisputable,
    "assign": JobNotAssignable,
    "withdraw": JobNotWithdrawable,
}


def refused_transition(action: str) -> type[JobStateConflict]:
    """The error for `action` on a job whose state does not allow it."""
    return _REFUSED.get(action, JobStateConflict)


# --- dispatch and reviews ------------------------------------------------------------------


class OffersPending(Conflict):
    """Staff asked for a new wave while offers of the job are still waiting for answers."""

    title, type_slug = _l("Offers still pending"), "offers-pending"


class DispatchHeld(Conflict):
    """A dispatch gate holds the job (e.g. its payment is not authorised): no offers yet."""

    title, type_slug = _l("Dispatch held"), "dispatch-held"


class AlreadyOffered(Conflict):
    """The member was offered this job before (or backed out of it): never twice; `state` is
    their offer's status."""

    title, type_slug = _l("Already offered"), "already-offered"


class NoCandidateLeft(Conflict):
    """No eligible member is left to offer the job to; assign one directly."""

    title, type_slug = _l("No candidate left"), "no-candidate-left"


class JobNotReviewable(Conflict):
    """A job can be reviewed once it is completed; `state` is the job's state."""

    title, type_slug = _l("Job not reviewable"), "job-not-reviewable"


class AlreadyReviewed(Conflict):
    """The caller's side has reviewed this job already (once per side)."""

    title, type_slug = _l("Already reviewed"), "already-reviewed"
