"""Named errors of mentoring: mentorships, sessions, top performers, events and broadcasts."""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l

# --- mentorships and sessions --------------------------------------------------------------


class MentorshipStateConflict(Conflict):
    """The mentorship's state does not allow this action; `state` is its status."""

    title, type_slug = _l("Mentorship state does not allow this"), "mentorship-state-conflict"


class MentorshipNotActive(MentorshipStateConflict):
    """The mentorship is not active (ended, graduated …); `state` is its status."""

    title, type_slug = _l("Mentorship not active"), "mentorship-not-active"


class AlreadyGraduated(Conflict):
    """The member graduated from a mentorship already."""

    title, type_slug = _l("Already graduated"), "already-graduated"


class HasMentor(Conflict):
    """The member has a mentor already."""

    title, type_slug = _l("Has a mentor"), "has-mentor"


class NotAStarter(Conflict):
    """Only active members below the graduation level get a mentor."""

    title, type_slug = _l("Not a starter"), "not-a-starter"


class MentorUnavailable(Conflict):
    """The mentor cannot take this mentee; `state` says why: not_a_mentor, away, not_eligible
    or full."""

    title, type_slug = _l("Mentor unavailable"), "mentor-unavailable"


class NotEligibleToMentor(Conflict):
    """The member does not meet the conditions to mentor yet; `reasons` lists them."""

    title, type_slug = _l("Not eligible to mentor"), "not-eligible-to-mentor"


class FeedbackAlreadyGiven(Conflict):
    """The mentee gave feedback on this session already."""

    title, type_slug = _l("Feedback already given"), "feedback-already-given"


class TooLateToShadow(Conflict):
    """The job has started or finished: too late to shadow it; `state` is the job's state."""

    title, type_slug = _l("Too late to shadow"), "too-late-to-shadow"


class AlreadyShadowing(Conflict):
    """The mentee shadows this job already."""

    title, type_slug = _l("Already shadowing"), "already-shadowing"


# --- top performers ------------------------------------------------------------------------


class BadgeRevoked(Conflict):
    """The badge has been revoked already."""

    title, type_slug = _l("Badge revoked"), "badge-revoked"


class BadgeExpired(Conflict):
    """The badge has expired; there is nothing to revoke."""

    title, type_slug = _l("Badge expired"), "badge-expired"


class PeriodAlreadyEvaluated(Conflict):
    """The period has been evaluated already; `run_id` names that run."""

    title, type_slug = _l("Period already evaluated"), "period-already-evaluated"


class PeriodNotOver(Conflict):
    """The period has not ended yet: it is evaluated from `ends_at` on."""

    title, type_slug = _l("Period not over"), "period-not-over"


class PeriodSuperseded(Conflict):
    """A later period has been evaluated; this one is history."""

    title, type_slug = _l("Period superseded"), "period-superseded"


# --- events and broadcasts -----------------------------------------------------------------


class EventStateConflict(Conflict):
    """The event's state does not allow this (draft, cancelled …); `state` is its status."""

    title, type_slug = _l("Event state does not allow this"), "event-state-conflict"


class EventStarted(Conflict):
    """The event has started: no more invitations or answers."""

    title, type_slug = _l("Event started"), "event-started"


class EventNotStarted(Conflict):
    """Attendance is recorded once the event has started."""

    title, type_slug = _l("Event not started"), "event-not-started"


class EventFull(Conflict):
    """The event has no seat left."""

    title, type_slug = _l("Event full"), "event-full"


class InvitationStateConflict(Conflict):
    """The invitation's state does not allow this answer; `state` is its status."""

    title, type_slug = _l("Invitation state does not allow this"), "invitation-state-conflict"


class InvitationNotAccepted(Conflict):
    """Only accepted invitations can be marked attended or no-show."""

    title, type_slug = _l("Invitation not accepted"), "invitation-not-accepted"


class BroadcastStateConflict(Conflict):
    """The broadcast's state does not allow this action; `state` is its status."""

    title, type_slug = _l("Broadcast state does not allow this"), "broadcast-state-conflict"
