"""Community managers' decisions on an application: documents, intro calls, asking the
applicant for more information, approve, reject.

Each decision locks the application row first, so concurrent decisions on one application
run one after the other and see each other (approve and reject at once: one wins, the other
gets a 409 with the state the winner left). Everything an applicant should know about is
notified in the same unit of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.extensions import db
from members.models import Member
from members.service import change_member_status
from notifications.service import notify
from onboarding.applications.lifecycle import transition
from onboarding.applications.queue import application_for_staff, detail, require_staff
from onboarding.config import onboarding_rules
from onboarding.errors import (
    ApplicationNotOpen,
    CheckAlreadyDecided,
    IntroCallPassed,
    NoIntroCallScheduled,
    StepsIncomplete,
)
from onboarding.levels.evaluation import admit_member
from onboarding.models import Application, DocumentCheck, InformationRequest, IntroCall
from onboarding.steps import checklists, missing_images, step_context


def _user_of(member_id: int) -> int:
    return db.session.scalar(select(Member.user_id).where(Member.id == member_id))


def _locked_open(actor: Principal, application_id: int) -> Application:
    """The application, locked, and still under way (else 409 with its status)."""
    require_staff(actor)
    application = application_for_staff(application_id, lock=True)
    if application.status != "in_progress":
        raise ApplicationNotOpen(
            _("This application is {application_status}.", application_status=application.status),
            state=application.status,
        )
    return application


# --- documents ------------------------------------------------------------------------------


def decide_document(
    *, actor: Principal, application_id: int, check_id: int, result: str, note: str | None = None
) -> DocumentCheck:
    """Verify or reject a submitted document of the application's member."""
    require_staff(actor)
    application = application_for_staff(application_id)
    check = db.session.scalar(
        select(DocumentCheck)
        .where(DocumentCheck.id == check_id, DocumentCheck.member_id == application.member_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if check is None:
        raise NotFound(_("No such document check for this application."))
    if check.status != "submitted":
        raise CheckAlreadyDecided(
            _("This document was {check_status} already.", check_status=check.status),
            state=check.status,
        )
    if result == "rejected" and not note:
        raise field_error("note", _("say why, for the applicant"))
    missing = missing_images(check, onboarding_rules().identity_images_required)
    if result == "verified" and missing:
        raise field_error(
            "result",
            _(
                "the applicant has not attached the images required yet: {value}",
                value=", ".join(missing),
            ),
        )
    check.status, check.note = result, note
    check.checked_by_id, check.checked_at = actor.user_id, utcnow()
    db.session.flush()
    kind = check.kind.replace("_", " ")
    notify(
        _user_of(check.member_id),
        f"onboarding.document_{result}",
        _l("Your {kind} was {result}", kind=kind, result=result),
        note or "",
        dedupe_key=f"onboarding.document:{check.id}",
        check_id=check.id,
        document_kind=check.kind,
    )
    return check


# --- intro call -----------------------------------------------------------------------------


def _calls(application_id: int) -> list[IntroCall]:
    query = select(IntroCall).where(IntroCall.application_id == application_id)
    return list(db.session.scalars(query.order_by(IntroCall.id.desc())))


def schedule_intro_call(
    *, actor: Principal, application_id: int, scheduled_at: datetime
) -> IntroCall:
    """Schedule the application's intro call, or move the one scheduled."""
    application = _locked_open(actor, application_id)
    if scheduled_at <= utcnow():
        raise field_error("scheduled_at", _("must be in the future"))
    calls = _calls(application.id)
    if any(call.status == "passed" for call in calls):
        raise IntroCallPassed(_("The intro call was passed already."), state="passed")
    call = calls[0] if calls and calls[0].status == "scheduled" else None
    if call is None:
        call = IntroCall(application_id=application.id, member_id=application.member_id)
        db.session.add(call)
    call.scheduled_at, call.scheduled_by_id, call.status = scheduled_at, actor.user_id, "scheduled"
    db.session.flush()
    notify(
        _user_of(application.member_id),
        "onboarding.intro_call_scheduled",
        _l("Your intro call is scheduled"),
        _l("A community manager will call you at {value}.", value=scheduled_at.isoformat()),
        dedupe_key=f"onboarding.intro_call:{call.id}:{scheduled_at.isoformat()}",
        call_id=call.id,
        scheduled_at=scheduled_at.isoformat(),
    )
    return call


def record_intro_call_outcome(
    *, actor: Principal, application_id: int, outcome: str, note: str | None = None
) -> IntroCall:
    """Note how the scheduled intro call went: passed, failed, no_show or cancelled."""
    application = _locked_open(actor, application_id)
    calls = _calls(application.id)
    if not calls or calls[0].status != "scheduled":
        state = calls[0].status if calls else "none"
        raise NoIntroCallScheduled(
            _("No intro call is scheduled for this application."), state=state
        )
    call = calls[0]
    call.status, call.note = outcome, note
    call.recorded_by_id, call.recorded_at = actor.user_id, utcnow()
    db.session.flush()
    notify(
        _user_of(application.member_id),
        "onboarding.intro_call_outcome",
        _l("Your intro call: {value}", value=outcome.replace("_", " ")),
        note or "",
        dedupe_key=f"onboarding.intro_call_outcome:{call.id}",
        call_id=call.id,
        outcome=outcome,
    )
    return call


# --- asking for more ------------------------------------------------------------------------


def request_info(*, actor: Principal, application_id: int, reason: str) -> InformationRequest:
    """Ask the applicant for more information (what, in `reason`): the application stays
    under way, the request is kept with who asked and when, and the applicant is told."""
    application = _locked_open(actor, application_id)
    request = InformationRequest(
        application_id=application.id,
        member_id=application.member_id,
        reason=reason,
        requested_by_id=actor.user_id,
        requested_at=utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    notify(
        _user_of(application.member_id),
        "onboarding.info_requested",
        _l("Your application: we need more information"),
        reason,
        dedupe_key=f"onboarding.info_requested:{request.id}",
        application_id=application.id,
        request_id=request.id,
    )
    return request


# --- approve and reject ---------------------------------------------------------------------


def approve(*, actor: Principal, application_id: int, note: str | None = None) -> dict:
    """Admit a ready applicant: application approved, member active, first level, notified."""
    application = _locked_open(actor, application_id)
    member = db.session.get(Member, application.member_id)
    states = checklists([(member, application)], step_context())[member.id]
    missing = [state.name for state in states if not state.finished]
    if missing:
        raise StepsIncomplete(
            _("Not every step is done: {value}.", value=", ".join(missing)),
            state="incomplete",
            missing=missing,
        )
    change_member_status(
        actor=actor,
        member_id=member.id,
        action="activate",
        reason=f"application {application.number} approved",
    )
    db.session.flush()
    notify(
        member.user_id,
        "onboarding.approved",
        _l("Welcome to the crowd"),
        _l("Your application was approved: you can take jobs now."),
        dedupe_key=f"onboarding.approved:{application.id}",
        application_id=application.id,
    )
    # Last: the first level is the final step of admission; then application.approved, whose
    # subscribers in other packages find a mentor, give a referral code, check the referrer.
    admit_member(member.id, actor_user_id=actor.user_id)
    transition(application, "approve", actor_user_id=actor.user_id, reason=note)
    return detail(application)


def reject(*, actor: Principal, application_id: int, reason: str) -> dict:
    """Turn an application down with a reason; the applicant may re-apply after the cool-off."""
    application = _locked_open(actor, application_id)
    now = utcnow()
    reapply_after = now + timedelta(days=onboarding_rules().reapply_cooloff_days)
    transition(application, "reject", actor_user_id=actor.user_id, reason=reason)
    application.reapply_after = reapply_after
    for call in _calls(application.id):
        if call.status == "scheduled":
            call.status, call.note = "cancelled", "application rejected"
            call.recorded_by_id, call.recorded_at = actor.user_id, now
    db.session.flush()
    notify(
        _user_of(application.member_id),
        "onboarding.rejected",
        _l("Your application was not accepted"),
        _l(
            "{reason}\nYou may apply again from {value}.",
            reason=reason,
            value=reapply_after.date().isoformat(),
        ),
        dedupe_key=f"onboarding.rejected:{application.id}",
        application_id=application.id,
        reapply_after=reapply_after.isoformat(),
    )
    return detail(application)
