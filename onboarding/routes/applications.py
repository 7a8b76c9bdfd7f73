"""HTTP for onboarding: the applicant's checklist, house rules, and the review queue."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from onboarding import house_rules, self_billing
from onboarding.applications import decisions, identity_images, own, queue
from onboarding.schemas import applications as schemas

blp = CrowdBlueprint(
    "onboarding_applications",
    __name__,
    url_prefix="/api/v1",
    description="Onboarding: applications, house rules and the review queue",
)

MEMBER = "member"


# --- the applicant --------------------------------------------------------------------------


@blp.route("/me/onboarding", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.OnboardingSchema)
@blp.errors(404)
def get_onboarding():
    """Your application and its checklist: each step's state (pending, submitted, scheduled,
    done, failed, not_required) with details, and whether you are ready for approval.

    Still answers once you are active: a new house rules version makes that step pending.
    """
    return own.overview(actor=current_principal())


@blp.route("/me/onboarding/documents", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.arguments(schemas.DocumentCreateSchema)
@blp.response(201, schemas.DocumentCheckSchema)
@blp.errors(404, 409)
def submit_document(data):
    """Submit a document's details for a community manager to check.

    Identity documents for everyone; trade certificates and business registrations for
    professionals only (422 on `kind` otherwise). A document of the same kind still waiting
    for its check: 409 (`state` submitted).

    An identity document may come with its images: `front_file_id`, `back_file_id`,
    `selfie_file_id`, each a confirmed upload of yours of purpose `identity_document`
    (POST /files, PUT the bytes, confirm) attached to no other document — else 422 naming the
    field, as for images on another kind. With ONBOARDING_IDENTITY_IMAGES_REQUIRED the front
    and the selfie are required (422 naming what is missing).
    """
    return own.submit_document(actor=current_principal(), **data)


@blp.route("/me/onboarding/documents/<int:check_id>/images", methods=["PUT"])
@blp.auth(MEMBER)
@blp.arguments(schemas.DocumentImagesSetSchema)
@blp.response(200, schemas.DocumentCheckSchema)
@blp.errors(404, 409)
def set_document_images(data, check_id):
    """Attach, replace or remove the images of your identity document while it waits for its
    check: the three ids are the images after this call (null: none); an image replaced or
    left out is deleted. Each is checked as at submission (422 naming the field). Decided
    already: 409 (`state`)."""
    return identity_images.set_images(actor=current_principal(), check_id=check_id, **data)


@blp.route("/me/onboarding/documents/<int:check_id>/images", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.DocumentImagesSchema)
@blp.errors(404)
def get_own_document_images(check_id):
    """Short-lived URLs of your document's images while they exist (null for an image not
    attached; all null once retention deleted them after the decision, `images_deleted_at`
    saying when)."""
    return identity_images.own_images(actor=current_principal(), check_id=check_id)


@blp.route("/me/onboarding/house-rules", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.OwnHouseRulesSchema)
@blp.errors(404)
def get_own_house_rules():
    """The current house rules and whether you have accepted them (404: none published)."""
    return house_rules.own_house_rules(actor=current_principal())


@blp.route("/me/onboarding/house-rules/accept", methods=["POST"])
@blp.auth(MEMBER)
@blp.arguments(schemas.HouseRulesAcceptSchema)
@blp.response(200, schemas.OwnHouseRulesSchema)
@blp.errors(404, 409)
def accept_house_rules(data):
    """Accept the current house rules version; accepting again is fine. Another version
    than the current one: 409 (`state` outdated, `current_version`)."""
    return house_rules.accept(actor=current_principal(), **data)


@blp.route("/me/onboarding/self-billing", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.OwnSelfBillingSchema)
@blp.errors(404)
def get_own_self_billing():
    """The self-billing agreement's current text in your language and your decision on it.

    Self-billing: the platform issues the documents for your earnings as credit notes
    (Gutschrift) in your name. Part of onboarding (the billing step), and yours to change
    at any time after.
    """
    return self_billing.own_agreement(actor=current_principal())


@blp.route("/me/onboarding/self-billing", methods=["PUT"])
@blp.auth(MEMBER)
@blp.arguments(schemas.SelfBillingDecisionSchema)
@blp.response(200, schemas.OwnSelfBillingSchema)
@blp.errors(404, 409)
def decide_self_billing(data):
    """Agree to self-billing or decline it (declining after agreeing withdraws it for future
    billing). Every change is kept; the same decision again changes nothing. Another text
    version than the current one: 409 (`state` outdated; GET the current text)."""
    return self_billing.decide(actor=current_principal(), **data)


@blp.route("/me/onboarding/reapply", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.response(201, schemas.ApplicationSchema)
@blp.errors(404, 409)
def reapply():
    """Open a new application after a rejection, once the cool-off is over.

    Before `reapply_after`: 409 (`state` rejected, `reapply_after`). An application in
    progress or approved: 409 with its `state`.
    """
    return own.reapply(actor=current_principal())


# --- house rules ----------------------------------------------------------------------------


@blp.route("/house-rules", methods=["POST"])
@blp.auth("admin")
@blp.idempotent
@blp.arguments(schemas.HouseRulesCreateSchema)
@blp.response(201, schemas.HouseRulesSchema)
def publish_house_rules(data):
    """Publish the next house rules version; every active or paused member is notified and
    asked to accept it."""
    return house_rules.publish(actor=current_principal(), **data)


@blp.route("/house-rules/current", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.HouseRulesSchema)
@blp.errors(404)
def get_current_house_rules():
    """The house rules in force (404: none published yet)."""
    return house_rules.get_current()


@blp.route("/house-rules", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(schemas.HouseRulesSchema))
def list_house_rules(args):
    """Every published house rules version, newest first."""
    return house_rules.list_versions(actor=current_principal(), **args)


# --- review queue ---------------------------------------------------------------------------


@blp.route("/applications", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.ApplicationQueryArgsSchema, location="query")
@blp.response(200, page_of(schemas.QueueItemSchema))
def list_applications(args):
    """The review queue, oldest first: applications by status (default in_progress), open
    `step`, readiness, region, skill or name, each with its steps' states."""
    return queue.list_applications(actor=current_principal(), **args)


@blp.route("/applications/step-counts", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.StepCountsArgsSchema, location="query")
@blp.response(200, schemas.StepCountsSchema)
def application_step_counts(args):
    """How many applications match the filters, and how many of them still wait for each
    step (the queue's tabs)."""
    return queue.step_counts(actor=current_principal(), **args)


@blp.route("/applications/<int:application_id>", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.ApplicationDetailSchema)
@blp.errors(404)
def get_application(application_id):
    """An application in full: steps with details, document checks, intro calls, test
    attempts, and who decided what when."""
    return queue.get_application(actor=current_principal(), application_id=application_id)


@blp.route("/applications/<int:application_id>/documents/<int:check_id>/decision", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.DocumentDecisionSchema)
@blp.response(200, schemas.DocumentCheckSchema)
@blp.errors(404, 409)
def decide_document(data, application_id, check_id):
    """Verify or reject a submitted document (a note is required to reject); the applicant
    is notified. A document decided already: 409 with its `state`."""
    return decisions.decide_document(
        actor=current_principal(), application_id=application_id, check_id=check_id, **data
    )


@blp.route("/applications/<int:application_id>/documents/<int:check_id>/images", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.DocumentImagesSchema)
@blp.errors(404)
def get_document_images(application_id, check_id):
    """Short-lived URLs of an identity check's images (front, back, selfie; null when not
    attached), for admins and the community managers responsible for onboarding (every CM when
    none is): other staff get 403. Each call is on the staff audit log with the check's id.
    After retention deleted them: nulls and `images_deleted_at`."""
    return identity_images.staff_images(
        actor=current_principal(), application_id=application_id, check_id=check_id
    )


@blp.route("/applications/<int:application_id>/intro-call", methods=["PUT"])
@blp.auth(*STAFF)
@blp.arguments(schemas.IntroCallScheduleSchema)
@blp.response(200, schemas.IntroCallSchema)
@blp.errors(404, 409)
def schedule_intro_call(data, application_id):
    """Schedule the intro call, or move the one scheduled; the applicant is notified.
    409: the application is decided, or its call was passed already."""
    return decisions.schedule_intro_call(
        actor=current_principal(), application_id=application_id, **data
    )


@blp.route("/applications/<int:application_id>/intro-call/outcome", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.IntroCallOutcomeSchema)
@blp.response(200, schemas.IntroCallSchema)
@blp.errors(404, 409)
def record_intro_call_outcome(data, application_id):
    """Note how the scheduled intro call went. No call scheduled: 409 (`state` of the last
    call, or none)."""
    return decisions.record_intro_call_outcome(
        actor=current_principal(), application_id=application_id, **data
    )


@blp.route("/applications/<int:application_id>/approve", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.ApproveSchema)
@blp.response(200, schemas.ApplicationDetailSchema)
@blp.errors(404, 409)
def approve(data, application_id):
    """Approve a ready application: the member becomes active at the first level.

    409 `state`: the application's status if not in progress; `incomplete` with the
    `missing` steps if not ready.
    """
    return decisions.approve(actor=current_principal(), application_id=application_id, **data)


@blp.route("/applications/<int:application_id>/request-info", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.InfoRequestCreateSchema)
@blp.response(201, schemas.InfoRequestSchema)
@blp.errors(404, 409)
def request_info(data, application_id):
    """Ask the applicant for more information, with what you need (`reason`, shown to
    them); the application stays in progress and the applicant is notified. 409: the
    application is decided already (`state`)."""
    return decisions.request_info(actor=current_principal(), application_id=application_id, **data)


@blp.route("/applications/<int:application_id>/reject", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.RejectSchema)
@blp.response(200, schemas.ApplicationDetailSchema)
@blp.errors(404, 409)
def reject(data, application_id):
    """Reject an application with a reason the applicant sees; they may apply again after
    the cool-off period (`reapply_after`)."""
    return decisions.reject(actor=current_principal(), application_id=application_id, **data)
