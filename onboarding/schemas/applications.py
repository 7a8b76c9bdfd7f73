"""API contract of the application pipeline: checklist, documents, house rules, review queue."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.files.schemas import DownloadSchema
from crowd.core.pagination import PageArgsSchema
from crowd.core.patterns import Pattern
from helpcentre.schemas import HelpArticleBriefSchema
from members.models import COUNTRIES
from onboarding.applications.own import DOCUMENT_TYPES
from onboarding.models import APPLICATION_STATUSES, DOCUMENT_KINDS, INTRO_CALL_STATUSES
from onboarding.schemas.skill_tests import AttemptSummarySchema
from onboarding.steps import STATES, STEP_NAMES

_TYPES = "; ".join(f"{kind}: {', '.join(types)}" for kind, types in DOCUMENT_TYPES.items())


def _note(max_length: int = 1000, **kwargs) -> Trimmed:
    return Trimmed(allow_none=True, validate=validate.Length(max=max_length), **kwargs)


def _image_id(what: str, **kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={
            "description": f"{what}: a confirmed upload of yours (POST /files, purpose "
            "identity_document)"
        },
        **kwargs,
    )


# --- the applicant's checklist --------------------------------------------------------------


class ApplicationSchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.Integer(metadata={"description": "1 for the first application, 2 …"})
    status = ma.fields.String(metadata={"description": ", ".join(APPLICATION_STATUSES)})
    opened_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    reason = ma.fields.String(
        allow_none=True, metadata={"description": "Rejection reason (or approval note)"}
    )
    reapply_after = ma.fields.DateTime(
        allow_none=True, metadata={"description": "After a rejection: apply again from here"}
    )


class StepSchema(ma.Schema):
    name = ma.fields.String(metadata={"description": ", ".join(STEP_NAMES)})
    state = ma.fields.String(metadata={"description": ", ".join(STATES)})
    summary = ma.fields.String()
    details = ma.fields.Dict(
        metadata={
            "description": "Per step: profile {missing}; identity / trade_certificate "
            "{check_id, status, note, expires_on …; identity also images {front, back, selfie: "
            "{file_id, status} or null}, images_deleted_at, missing_images when required}; "
            "skill_tests {skills: [...]}; intro_call "
            "{status, scheduled_at}; house_rules {current_version, accepted_version}; "
            "payout_account {details_submitted, payouts_enabled}"
        }
    )


class OwnStepSchema(StepSchema):
    articles = ma.fields.List(
        ma.fields.Nested(HelpArticleBriefSchema),
        metadata={"description": "Help centre articles on this step (published, for you)"},
    )


class ProgressSchema(ma.Schema):
    done = ma.fields.Integer()
    total = ma.fields.Integer(metadata={"description": "Steps that apply to you"})


class OnboardingSchema(ma.Schema):
    """Your application and its checklist; `ready` when every step is done or not required."""

    application = ma.fields.Nested(ApplicationSchema, allow_none=True)
    member_status = ma.fields.String()
    ready = ma.fields.Boolean()
    steps = ma.fields.List(ma.fields.Nested(OwnStepSchema))
    progress = ma.fields.Nested(ProgressSchema)


class DocumentCreateSchema(ma.Schema):
    """What identifies a document you showed; never the document or its full number."""

    kind = ma.fields.String(required=True, validate=validate.OneOf(DOCUMENT_KINDS))
    document_type = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=40), metadata={"description": _TYPES}
    )
    issuer = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    issuing_country = ma.fields.String(
        required=True,
        validate=Pattern(r"[A-Z]{2}", error="an ISO 3166 country code: DE, AT …"),
    )
    reference_hint = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=Pattern(r"[A-Za-z0-9]{1,4}", error="at most the last 4 characters"),
        metadata={"description": "The last (up to 4) characters of the document number"},
    )
    expires_on = ma.fields.Date(
        allow_none=True, load_default=None, metadata={"description": "Must be in the future"}
    )
    front_file_id = _image_id(
        "Identity only: the document's front (required with ONBOARDING_IDENTITY_IMAGES_REQUIRED)",
        load_default=None,
    )
    back_file_id = _image_id("Identity only: the document's back", load_default=None)
    selfie_file_id = _image_id(
        "Identity only: a selfie holding the document (required with "
        "ONBOARDING_IDENTITY_IMAGES_REQUIRED)",
        load_default=None,
    )


class DocumentImagesSetSchema(ma.Schema):
    """The images of your identity document after this call: each an upload of yours, or null
    for none (an image replaced or left out is deleted)."""

    front_file_id = _image_id("The document's front", required=True)
    back_file_id = _image_id("The document's back", required=True)
    selfie_file_id = _image_id("A selfie holding the document", required=True)


class DocumentImagesSchema(ma.Schema):
    """Short-lived URLs of an identity check's images (null: none attached, or deleted)."""

    check_id = ma.fields.Integer()
    front = ma.fields.Nested(DownloadSchema, allow_none=True)
    back = ma.fields.Nested(DownloadSchema, allow_none=True)
    selfie = ma.fields.Nested(DownloadSchema, allow_none=True)
    images_deleted_at = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "When retention deleted the images (after the decision)"},
    )


class DocumentCheckSchema(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    kind = ma.fields.String()
    document_type = ma.fields.String()
    issuer = ma.fields.String()
    issuing_country = ma.fields.String()
    reference_hint = ma.fields.String(allow_none=True)
    expires_on = ma.fields.Date(allow_none=True)
    status = ma.fields.String(metadata={"description": "submitted, verified or rejected"})
    submitted_at = ma.fields.DateTime()
    checked_by_id = ma.fields.Integer(allow_none=True)
    checked_at = ma.fields.DateTime(allow_none=True)
    note = ma.fields.String(allow_none=True)
    front_file_id = ma.fields.Integer(allow_none=True, metadata={"description": "Identity only"})
    back_file_id = ma.fields.Integer(allow_none=True, metadata={"description": "Identity only"})
    selfie_file_id = ma.fields.Integer(allow_none=True, metadata={"description": "Identity only"})
    images_deleted_at = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "When retention deleted the images (after the decision)"},
    )


# --- house rules ----------------------------------------------------------------------------


class HouseRulesSchema(ma.Schema):
    id = ma.fields.Integer()
    version = ma.fields.Integer()
    title = ma.fields.String()
    body = ma.fields.String()
    summary_of_changes = ma.fields.String(allow_none=True)
    published_at = ma.fields.DateTime()
    published_by_id = ma.fields.Integer(allow_none=True)


class HouseRulesCreateSchema(ma.Schema):
    title = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    body = ma.fields.String(required=True, validate=validate.Length(min=1, max=100_000))
    summary_of_changes = _note(2000, load_default=None)


class OwnHouseRulesSchema(ma.Schema):
    rules = ma.fields.Nested(HouseRulesSchema)
    accepted = ma.fields.Boolean()
    accepted_at = ma.fields.DateTime(allow_none=True)


class HouseRulesAcceptSchema(ma.Schema):
    version = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "The version you read; it must be the current one"},
    )


# --- self-billing ---------------------------------------------------------------------------


class SelfBillingTextSchema(ma.Schema):
    version = ma.fields.String(metadata={"description": "The text's version, e.g. 2026-01"})
    language = ma.fields.String(metadata={"description": "de or en: yours"})
    title = ma.fields.String()
    body = ma.fields.String()


class OwnSelfBillingSchema(ma.Schema):
    """The current agreement text and your current decision on self-billing."""

    text = ma.fields.Nested(SelfBillingTextSchema)
    decided = ma.fields.Boolean(metadata={"description": "You have agreed or declined"})
    agreed = ma.fields.Boolean(
        allow_none=True,
        metadata={"description": "Your current decision; null until you decide"},
    )
    text_version = ma.fields.String(
        allow_none=True, metadata={"description": "The text version you decided on"}
    )
    decided_at = ma.fields.DateTime(allow_none=True)


class SelfBillingDecisionSchema(ma.Schema):
    agreed = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "true: the platform bills your earnings by credit note; "
            "false: you decline (or withdraw an agreement) and invoice yourself"
        },
    )
    text_version = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "The version you read; it must be the current one"},
    )


# --- review queue ---------------------------------------------------------------------------


class ApplicationQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(
        load_default="in_progress", validate=validate.OneOf(APPLICATION_STATUSES)
    )
    step = ma.fields.String(
        validate=validate.OneOf(STEP_NAMES),
        metadata={"description": "Only applicants whose step is not yet done (or not required)"},
    )
    ready = ma.fields.Boolean(metadata={"description": "Every step done (true) or not (false)"})
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))
    city = ma.fields.String(validate=validate.Length(min=1, max=120))
    postcode_prefix = ma.fields.String(validate=Pattern(r"\d{1,5}", error="must be 1 to 5 digits"))
    skill = ma.fields.String(validate=validate.Length(min=1, max=60))
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of the display name (case-insensitive)"},
    )
    waiting_days = ma.fields.Integer(
        validate=validate.Range(min=0, max=3650),
        metadata={"description": "Only applications open at least this many days"},
    )


class StepCountsArgsSchema(ApplicationQueryArgsSchema):
    """The queue's filters; `step`, `limit` and `cursor` do not apply to the counts."""

    class Meta:
        exclude = ("step", "limit", "cursor")


class StepCountsSchema(ma.Schema):
    total = ma.fields.Integer(metadata={"description": "Applications matching the filters"})
    steps = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "step name → how many of them still wait for it"},
    )


class ApplicantSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.String()
    city = ma.fields.String(allow_none=True)
    postcode = ma.fields.String(allow_none=True)
    country = ma.fields.String(allow_none=True)
    skills = ma.fields.Function(lambda member: [claim.skill.slug for claim in member.skills])


class QueueItemSchema(ma.Schema):
    """An application in the queue, with its member and each step's state."""

    id = ma.fields.Integer(attribute="application.id")
    number = ma.fields.Integer(attribute="application.number")
    status = ma.fields.String(attribute="application.status")
    opened_at = ma.fields.DateTime(attribute="application.opened_at")
    member = ma.fields.Nested(ApplicantSchema)
    steps = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), metadata={"description": "name → state"}
    )
    ready = ma.fields.Boolean()


class StaffApplicationSchema(ApplicationSchema):
    member_id = ma.fields.Integer()
    decided_by_id = ma.fields.Integer(allow_none=True)


class IntroCallSchema(ma.Schema):
    id = ma.fields.Integer()
    application_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    scheduled_at = ma.fields.DateTime()
    scheduled_by_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": ", ".join(INTRO_CALL_STATUSES)})
    note = ma.fields.String(allow_none=True)
    recorded_by_id = ma.fields.Integer(allow_none=True)
    recorded_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class InfoRequestSchema(ma.Schema):
    id = ma.fields.Integer()
    application_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    reason = ma.fields.String(metadata={"description": "What the applicant is asked for"})
    requested_by_id = ma.fields.Integer()
    requested_at = ma.fields.DateTime()


class HouseRulesAcceptedSchema(ma.Schema):
    version = ma.fields.Integer()
    accepted_at = ma.fields.DateTime()


class ApplicationDetailSchema(ma.Schema):
    """An application in full: every step with details, documents, calls and test attempts."""

    application = ma.fields.Nested(StaffApplicationSchema)
    member = ma.fields.Nested(ApplicantSchema)
    ready = ma.fields.Boolean()
    steps = ma.fields.List(ma.fields.Nested(StepSchema))
    document_checks = ma.fields.List(ma.fields.Nested(DocumentCheckSchema))
    intro_calls = ma.fields.List(ma.fields.Nested(IntroCallSchema))
    test_attempts = ma.fields.List(ma.fields.Nested(AttemptSummarySchema))
    info_requests = ma.fields.List(
        ma.fields.Nested(InfoRequestSchema),
        metadata={"description": "What the applicant was asked for, newest first"},
    )
    house_rules_accepted = ma.fields.List(
        ma.fields.Nested(HouseRulesAcceptedSchema),
        metadata={"description": "Each house rules version accepted and when, newest first"},
    )


class DocumentDecisionSchema(ma.Schema):
    result = ma.fields.String(required=True, validate=validate.OneOf(("verified", "rejected")))
    note = _note(
        load_default=None,
        metadata={"description": "Required when rejecting: the applicant sees it"},
    )


class IntroCallScheduleSchema(ma.Schema):
    scheduled_at = ma.fields.AwareDateTime(
        required=True,
        metadata={"description": "In the future", "example": "2030-07-01T10:00+02:00"},
    )


class IntroCallOutcomeSchema(ma.Schema):
    outcome = ma.fields.String(
        required=True, validate=validate.OneOf(("passed", "failed", "no_show", "cancelled"))
    )
    note = _note(2000, load_default=None)


class ApproveSchema(ma.Schema):
    note = _note(load_default=None)


class InfoRequestCreateSchema(ma.Schema):
    reason = Trimmed(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "What the applicant should send or do; they see it"},
    )


class RejectSchema(ma.Schema):
    reason = Trimmed(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "Shown to the applicant"},
    )
