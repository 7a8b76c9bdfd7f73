"""An identity check's images: the document's front and back and a selfie holding it, uploaded
from the phone (crowd.core.files, purpose identity_document) and attached to the check.

The applicant attaches them when submitting the check or later, while it waits for its check;
they read their own back. Staff who may read them — admins and the community managers
answering for the onboarding queue (accounts.staff_alerts.responsible_for; when no active CM
answers for it, every CM, as its alerts then go to every CM) — get short-lived URLs, and each
such read is put on the staff audit log with the check's id. Retention deletes the images after
the decision (DocumentCheck.images_deleted_at); the check and its decision stay.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from accounts.staff_alerts import anyone_responsible, responsible_for
from crowd.core import audit
from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, NotFound, Unprocessable, field_error
from crowd.core.files import service as files
from crowd.core.i18n import _
from crowd.extensions import db
from members.access import own_member
from onboarding.applications.queue import application_for_staff, require_staff
from onboarding.config import onboarding_rules
from onboarding.errors import CheckAlreadyDecided
from onboarding.models import DocumentCheck
from onboarding.steps import IDENTITY_KINDS, IMAGE_SLOTS, REQUIRED_IMAGES

# The request fields naming each image: front_file_id, back_file_id, selfie_file_id.
FIELDS = {slot: f"{slot}_file_id" for slot in IMAGE_SLOTS}
QUEUE = "onboarding"


# --- attaching (the applicant) --------------------------------------------------------------


def check_fields(kind: str, chosen: dict[str, int | None]) -> None:
    """Images only for an identity check; front and selfie when they are required (422)."""
    if kind not in IDENTITY_KINDS:
        given = [FIELDS[slot] for slot in IMAGE_SLOTS if chosen.get(slot) is not None]
        if given:
            message = _("only an identity document takes images")
            raise Unprocessable(
                f"{given[0]}: {message}", errors={"json": {name: [message] for name in given}}
            )
        return
    if onboarding_rules().identity_images_required:
        missing = [FIELDS[slot] for slot in REQUIRED_IMAGES if chosen.get(slot) is None]
        if missing:
            message = _("an image of the document's front and a selfie are required")
            raise Unprocessable(
                f"{missing[0]}: {message}", errors={"json": {name: [message] for name in missing}}
            )


def attach(check: DocumentCheck, chosen: dict[str, int | None], *, owner_user_id: int) -> None:
    """Make `chosen` ({slot: file id or None}) the check's images: each a ready identity
    document upload of the applicant's, used nowhere else (else 422 naming its field); the
    images it replaces or removes are discarded."""
    check_fields(check.kind, chosen)
    seen: dict[int, str] = {}
    for slot in IMAGE_SLOTS:
        file_id = chosen.get(slot)
        if file_id is None:
            continue
        field = FIELDS[slot]
        if file_id in seen:
            raise field_error(
                field, _("this image is attached as {value} already", value=seen[file_id])
            )
        seen[file_id] = slot
        if file_id == getattr(check, field):
            continue  # kept as it is
        files.ready_file(
            owner_user_id=owner_user_id,
            file_id=file_id,
            purpose=files.IDENTITY_DOCUMENT,
            field=field,
        )
        if _attached_elsewhere(file_id, check.id):
            raise field_error(field, _("this image belongs to another document"))
    for slot in IMAGE_SLOTS:
        field = FIELDS[slot]
        previous, chosen_id = getattr(check, field), chosen.get(slot)
        if previous == chosen_id:
            continue
        setattr(check, field, chosen_id)
        if previous is not None and previous not in seen:
            files.discard(previous)


def _attached_elsewhere(file_id: int, check_id: int | None) -> bool:
    query = select(DocumentCheck.id).where(
        or_(*(getattr(DocumentCheck, name) == file_id for name in FIELDS.values()))
    )
    if check_id is not None:
        query = query.where(DocumentCheck.id != check_id)
    return db.session.scalar(query.limit(1)) is not None


def set_images(
    *,
    actor: Principal,
    check_id: int,
    front_file_id: int | None,
    back_file_id: int | None,
    selfie_file_id: int | None,
) -> DocumentCheck:
    """The applicant's identity check, waiting for its check, gets these images (null: none);
    a replaced or removed image is discarded. Decided already: 409."""
    member = own_member(actor)
    check = db.session.scalar(
        select(DocumentCheck)
        .where(DocumentCheck.id == check_id, DocumentCheck.member_id == member.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if check is None:
        raise NotFound(_("No such document of yours."))
    if check.status != "submitted":
        raise CheckAlreadyDecided(
            _("This document was {check_status} already.", check_status=check.status),
            state=check.status,
        )
    chosen = {"front": front_file_id, "back": back_file_id, "selfie": selfie_file_id}
    attach(check, chosen, owner_user_id=actor.user_id)
    db.session.flush()
    return check


# --- reading --------------------------------------------------------------------------------


def downloads(check: DocumentCheck) -> dict:
    """Short-lived URLs of the check's images ({front, back, selfie}: a Download or None) and
    when retention deleted them. The caller has authorised the reader."""
    found: dict[str, files.Download | None] = dict.fromkeys(IMAGE_SLOTS)
    if check.images_deleted_at is None:
        for slot in IMAGE_SLOTS:
            file_id = getattr(check, FIELDS[slot])
            if file_id is not None:
                name = f"identity-{check.id}-{slot}.{files.extension(file_id)}"
                found[slot] = files.download(file_id, filename=name)
    return {"check_id": check.id, **found, "images_deleted_at": check.images_deleted_at}


def own_images(*, actor: Principal, check_id: int) -> dict:
    """The applicant's own check's images, while they exist."""
    member = own_member(actor)
    check = db.session.scalar(
        select(DocumentCheck).where(
            DocumentCheck.id == check_id, DocumentCheck.member_id == member.id
        )
    )
    if check is None:
        raise NotFound(_("No such document of yours."))
    return downloads(check)


def may_read(actor: Principal) -> bool:
    """Admins, and the community managers answering for onboarding (every CM when none does)."""
    if actor.role == "admin":
        return True
    if actor.role != "community_manager":
        return False
    return responsible_for(actor.user_id, QUEUE) or not anyone_responsible(QUEUE)


def require_reader(actor: Principal) -> None:
    if not may_read(actor):
        raise Forbidden(
            _(
                "Identity document images are for admins and the community managers "
                "responsible for onboarding."
            )
        )


def staff_images(*, actor: Principal, application_id: int, check_id: int) -> dict:
    """A check's images for the staff reviewing the application; the read is on the audit log
    (refused attempts too)."""
    audit.record_read(check_id=check_id)
    require_staff(actor)
    require_reader(actor)
    application = application_for_staff(application_id)
    check = db.session.scalar(
        select(DocumentCheck).where(
            DocumentCheck.id == check_id, DocumentCheck.member_id == application.member_id
        )
    )
    if check is None:
        raise NotFound(_("No such document check for this application."))
    return downloads(check)


def images_for_page(*, actor: Principal, checks: list[DocumentCheck]) -> dict | None:
    """{check id: downloads} of the identity checks that have images, for a page showing the
    application to `actor`; None when they may not see them. The page's read of any images is
    put on the audit log with their checks' ids."""
    if not may_read(actor):
        return None
    shown = {
        check.id: downloads(check)
        for check in checks
        if check.kind in IDENTITY_KINDS
        and any(getattr(check, name) is not None for name in FIELDS.values())
    }
    read = [
        check_id
        for check_id, found in shown.items()
        if any(found[slot] is not None for slot in IMAGE_SLOTS)
    ]
    if read:
        audit.record_read(check_ids=read)
    return shown
