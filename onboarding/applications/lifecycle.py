"""An application's one transition(): in_progress → approved | rejected, stamped and emitted.

`opened()` emits `application.in_progress` for a new application (at sign-up or on
re-application); `transition()` decides one and emits `application.approved` or
`application.rejected` with the member, the number and the reason. What follows in other
packages (a mentor, a referral code, the referrer's milestone) is their subscribers'.
"""

from __future__ import annotations

from crowd.core.db import utcnow
from crowd.core.events import declare, emit_transition
from crowd.core.i18n import _
from onboarding.errors import ApplicationNotOpen
from onboarding.models import Application

TRANSITIONS: dict[tuple[str, str], str] = {
    ("in_progress", "approve"): "approved",
    ("in_progress", "reject"): "rejected",
}
declare("application.in_progress", *sorted(set(TRANSITIONS.values())))


def opened(application: Application, *, actor: int | str) -> None:
    """A new application (flushed) is under way."""
    _emit(application, "open", None, actor)


def transition(
    application: Application, action: str, *, actor_user_id: int, reason: str | None
) -> None:
    """Decide a (locked) open application; 409 with its status when it is decided already."""
    target = TRANSITIONS.get((application.status, action))
    if target is None:
        raise ApplicationNotOpen(
            _("This application is {application_status}.", application_status=application.status),
            state=application.status,
        )
    was = application.status
    application.status, application.reason = target, reason
    application.decided_at, application.decided_by_id = utcnow(), actor_user_id
    _emit(application, action, was, actor_user_id)


def _emit(application: Application, action: str, was: str | None, actor: int | str) -> None:
    emit_transition(
        "application",
        application.id,
        action=action,
        was=was,
        now=application.status,
        actor=actor,
        member_id=application.member_id,
        number=application.number,
        reason=application.reason,
    )
