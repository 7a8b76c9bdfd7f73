"""The event and invitation state machines as data, and the functions that move along them.

(state, action, actor) → next state. Actors: "staff" (community managers and admins),
"member" (the invitee), "system" (the periodic close of past events). Anything the tables do
not allow is a 409 carrying the current state.
"""

from __future__ import annotations

from crowd.core.i18n import _
from mentoring.errors import EventStateConflict

EVENT_TRANSITIONS: dict[tuple[str, str, str], str] = {
    ("draft", "edit", "staff"): "draft",
    ("published", "edit", "staff"): "published",
    ("draft", "publish", "staff"): "published",
    ("draft", "cancel", "staff"): "cancelled",
    ("published", "cancel", "staff"): "cancelled",
    # Past events are closed by the periodic sweep; attendance may still be marked then.
    ("published", "finish", "system"): "done",
}

INVITATION_TRANSITIONS: dict[tuple[str, str, str], str] = {
    ("eligible", "invite", "staff"): "invited",
    ("invited", "accept", "member"): "accepted",
    ("invited", "decline", "member"): "declined",
    # A member may change their mind until the event starts (capacity permitting).
    ("accepted", "decline", "member"): "declined",
    ("declined", "accept", "member"): "accepted",
    ("accepted", "attend", "staff"): "attended",
    ("accepted", "no_show", "staff"): "no_show",
    # Corrections of a mistaken attendance mark.
    ("no_show", "attend", "staff"): "attended",
    ("attended", "no_show", "staff"): "no_show",
}


def event_target(status: str, action: str, actor: str = "staff") -> str:
    """The event's next status for `action`; 409 with the current state when not allowed."""
    target = EVENT_TRANSITIONS.get((status, action, actor))
    if target is None:
        raise EventStateConflict(
            _("Cannot {action} an event that is {status}.", action=action, status=status),
            state=status,
        )
    return target


def invitation_target(status: str, action: str, actor: str) -> str | None:
    """The invitation's next status for `action`, or None when the table does not allow it."""
    return INVITATION_TRANSITIONS.get((status, action, actor))


def allowed_invitation_actions(status: str, actor: str) -> list[str]:
    """What `actor` may do to an invitation in `status` (for the app's buttons)."""
    return sorted(a for (s, a, who) in INVITATION_TRANSITIONS if s == status and who == actor)
