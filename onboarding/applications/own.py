"""The applicant's side: the checklist's progress, documents to check, and re-applying."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _
from crowd.extensions import db
from helpcentre.reading import linked_articles
from members.access import own_member
from onboarding.applications import identity_images
from onboarding.applications.lifecycle import opened
from onboarding.errors import CheckPending, NotAnApplicant, NothingToReapply, ReapplyLater
from onboarding.models import Application, DocumentCheck
from onboarding.steps import StepState, checklists, is_ready, step_context

# Kinds of document a member may submit, and the document types each kind takes.
DOCUMENT_TYPES = {
    "identity": ("passport", "id_card", "residence_permit"),
    "trade_certificate": ("meisterbrief", "gesellenbrief", "efz", "trade_diploma", "other"),
    "business_registration": ("gewerbeanmeldung", "commercial_register", "other"),
}
PROFESSIONAL_KINDS = ("trade_certificate", "business_registration")


def first_source(member_id: int) -> tuple[str, int | None]:
    """The source and channel of the member's first application (what re-applications keep)."""
    row = db.session.execute(
        select(Application.source, Application.channel_id)
        .where(Application.member_id == member_id)
        .order_by(Application.number)
        .limit(1)
    ).first()
    return (row.source, row.channel_id) if row else ("organic", None)


def current_application(member_id: int) -> Application | None:
    """The member's latest application (the one the checklist is about)."""
    return db.session.scalar(
        select(Application)
        .where(Application.member_id == member_id)
        .order_by(Application.number.desc())
        .limit(1)
    )


def progress(states: list[StepState]) -> dict:
    """Steps done out of the steps that apply to the member (not_required ones do not)."""
    applicable = [state for state in states if state.state != "not_required"]
    return {"done": sum(1 for s in applicable if s.state == "done"), "total": len(applicable)}


def overview(*, actor: Principal) -> dict:
    """The member's application and every step's state, for the mobile app, each step with
    the help centre articles linked to it."""
    member = own_member(actor)
    application = current_application(member.id)
    states = checklists([(member, application)], step_context())[member.id]
    articles = linked_articles(actor=actor, target_kind="onboarding_step")
    return {
        "application": application,
        "member_status": member.status,
        "ready": is_ready(states),
        "steps": [{**asdict(state), "articles": articles.get(state.name, [])} for state in states],
        "progress": progress(states),
    }


def submit_document(
    *,
    actor: Principal,
    kind: str,
    document_type: str,
    issuer: str,
    issuing_country: str,
    reference_hint: str | None = None,
    expires_on=None,
    front_file_id: int | None = None,
    back_file_id: int | None = None,
    selfie_file_id: int | None = None,
) -> DocumentCheck:
    """Record a document's metadata for a community manager to check, with, for an identity
    document, the images uploaded for it (onboarding.applications.identity_images)."""
    # Locked: two submissions of one kind at once are one submission and a 409.
    member = own_member(actor, lock=True)
    if kind in PROFESSIONAL_KINDS and member.kind != "professional":
        raise field_error("kind", _("{kind} is for professional members only", kind=kind))
    if document_type not in DOCUMENT_TYPES[kind]:
        raise field_error(
            "document_type",
            _("for {kind} use one of: {value}", kind=kind, value=", ".join(DOCUMENT_TYPES[kind])),
        )
    if expires_on is not None and expires_on <= utcnow().date():
        raise field_error("expires_on", _("must be in the future"))
    images = {"front": front_file_id, "back": back_file_id, "selfie": selfie_file_id}
    identity_images.check_fields(kind, images)
    waiting = db.session.scalar(
        select(DocumentCheck.id).where(
            DocumentCheck.member_id == member.id,
            DocumentCheck.kind == kind,
            DocumentCheck.status == "submitted",
        )
    )
    if waiting is not None:
        raise CheckPending(
            _("Your {value} is waiting for a check already.", value=kind.replace("_", " ")),
            state="submitted",
            check_id=waiting,
        )
    check = DocumentCheck(
        member_id=member.id,
        kind=kind,
        document_type=document_type,
        issuer=issuer,
        issuing_country=issuing_country,
        reference_hint=reference_hint,
        expires_on=expires_on,
        status="submitted",
        submitted_at=utcnow(),
    )
    # Before the check joins the session: the images are checked against the other checks.
    identity_images.attach(check, images, owner_user_id=actor.user_id)
    db.session.add(check)
    db.session.flush()
    return check


def reapply(*, actor: Principal) -> Application:
    """A rejected applicant opens their next application once the cool-off is over."""
    # Locked: a double tap opens one application (the partial unique index backs this up).
    member = own_member(actor, lock=True)
    latest = current_application(member.id)
    if latest is not None and latest.status != "rejected":
        raise NothingToReapply(
            _(
                "Your application is {value}; there is nothing to re-apply for.",
                value=latest.status.replace("_", " "),
            ),
            state=latest.status,
        )
    if member.status != "applicant":
        raise NotAnApplicant(
            _("You are {member_status}, not an applicant.", member_status=member.status),
            state=member.status,
        )
    now = utcnow()
    if latest is not None and latest.reapply_after is not None and now < latest.reapply_after:
        raise ReapplyLater(
            _("You may apply again from {value}.", value=latest.reapply_after.isoformat()),
            state="rejected",
            reapply_after=latest.reapply_after.isoformat(),
        )
    # A re-application keeps where the member first came from (the funnel counts them once).
    source, channel_id = first_source(member.id)
    application = Application(
        member_id=member.id,
        number=(latest.number + 1) if latest else 1,
        status="in_progress",
        opened_at=now,
        source=source,
        channel_id=channel_id,
    )
    db.session.add(application)
    db.session.flush()
    opened(application, actor=actor.user_id)
    return application
