"""Onboarding review: the application queue by step and waiting time, an application's page
with its checks and decisions, and bulk actions (approve a batch, verify a skill for several).

Thin views over the services the API routes call (onboarding.applications.queue/decisions,
members.service.set_skill_verified, onboarding.skill_tests.overrides): the queue's filters are
loaded with the API's ApplicationQueryArgsSchema, each form with the API's schema of that
action. A refusal shows the page again with the message and the refusal's status (422, 409).
A bulk action runs each item through the same service in a savepoint of its own: a refused
item rolls back only itself, and the page lists what was done and what was refused.

An identity check's images show as thumbnails linking to the full image (short-lived URLs,
onboarding.applications.identity_images) to the staff who may read them, each view on the
audit log; the others read that the onboarding team sees them. Only URLs of our own storage
(/files/local/…) are shown as images: the console loads nothing from elsewhere, so with S3 the
images are links.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import marshmallow as ma
from flask import redirect, request, url_for

from console.csv_export import csv_response, rows
from console.forms import fields as _fields
from console.forms import problem as _problem
from console.forms import status as _status
from console.forms import utc as _utc
from console.web import ConsoleBlueprint, render, signed_in
from crowd.core.db import utcnow
from crowd.core.errors import DomainError, Unprocessable
from crowd.core.i18n import _
from crowd.extensions import db
from members.models import COUNTRIES
from members.service import list_catalogue, set_skill_verified
from onboarding.applications import decisions, identity_images, queue
from onboarding.levels.training import completions
from onboarding.schemas import applications as schemas
from onboarding.skill_tests.overrides import reset_retry_delay
from onboarding.steps import IMAGE_SLOTS, STEP_NAMES

blp = ConsoleBlueprint("console_onboarding", __name__, url_prefix="/console/onboarding")

PAGE_SIZE = 25
FILTERS = ("step", "country", "postcode_prefix", "skill", "waiting_days", "q", "ready")
# At most this many items in one bulk action (a page of the queue, twice over).
BULK_LIMIT = 100
REFUSALS = (ma.ValidationError, DomainError)


# --- the queue --------------------------------------------------------------------------------


def _queue_filters() -> dict:
    """The page's filters (non-empty query parameters), checked by the API's own schema."""
    chosen = {name: (request.args.get(name) or "").strip() for name in FILTERS}
    chosen = {name: value for name, value in chosen.items() if value}
    return schemas.ApplicationQueryArgsSchema(exclude=("limit", "cursor")).load(chosen)


@blp.page("/")
def index():
    """The queue, oldest first: tabs per step, filters, bulk approve and verify. The tabs'
    counts come in a request of their own (step_tabs), loaded with the page: counting every
    open application by step costs more than the page itself, so the queue is shown first."""
    actor = signed_in().principal
    error, status, page, filters = None, 200, None, {}
    try:
        filters = _queue_filters()
        page = queue.list_applications(
            actor=actor, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None, **filters
        )
    except REFUSALS as refused:
        error, status = _problem(refused), _status(refused)
    now = utcnow()
    kept = {k: v for k, v in request.args.items() if k != "cursor" and v}
    next_cursor = page["page"]["next_cursor"] if page else None
    return render(
        "onboarding/index.html",
        status=status,
        error=error,
        page=page,
        counts=None,
        tabs_url=None if error else url_for(".step_tabs", **kept),
        args=request.args,
        kept=kept,
        filters=filters,
        steps=STEP_NAMES,
        countries=COUNTRIES,
        skills=_skills(),
        now=now,
        waited=lambda opened: max((now - opened) // timedelta(days=1), 0),
        next_url=url_for(".index", **kept, cursor=next_cursor) if next_cursor else None,
        first_url=url_for(".index", **kept) if request.args.get("cursor") else None,
        csv_url=url_for(".queue_csv", **kept),
    )


@blp.page("/step-tabs")
def step_tabs():
    """The queue's tabs with how many applications (within the page's other filters) still
    wait for each step: the fragment the queue page loads in place of its tabs."""
    kept = {k: v for k, v in request.args.items() if k != "cursor" and v}
    counts, status = None, 200
    try:
        counts = queue.step_counts(actor=signed_in().principal, **_queue_filters())
    except REFUSALS as refused:
        status = _status(refused)  # the page shows the message; the tabs stay without counts
    return render(
        "onboarding/_step_tabs.html",
        status=status,
        counts=counts,
        tabs_url=None,
        kept=kept,
        args=request.args,
        steps=STEP_NAMES,
    )


def _skills() -> list[tuple[str, str]]:
    """(slug, name) of every skill in the catalogue, by category."""
    return [(skill.slug, skill.name) for c in list_catalogue() for skill in c.skills]


@blp.page("/applications.csv")
def queue_csv():
    """The queue with the page's filters as a streamed CSV (every row, not one page)."""
    statement = queue.export_rows(actor=signed_in().principal, **_queue_filters())
    return csv_response("applications", queue.EXPORT_COLUMNS, rows(statement))


# --- one application --------------------------------------------------------------------------


def _application_page(application_id: int, *, status: int = 200, **extra):
    actor = signed_in().principal
    data = queue.get_application(actor=actor, application_id=application_id)
    training = completions(actor=actor, member_id=data["member"].id, limit=50)["items"]
    steps = {state.name: state for state in data["steps"]}
    images = identity_images.images_for_page(actor=actor, checks=data["document_checks"])
    return render(
        "onboarding/application.html",
        status=status,
        **data,
        step=steps,
        training=training,
        images=images,
        image_slots=IMAGE_SLOTS,
        own_url=_own_url,
        errors=extra.pop("errors", {}),
        done=request.args.get("done"),
        **extra,
    )


def _own_url(url: str) -> str | None:
    """The path of a URL the app serves itself (local storage), to show as an image; None
    for anything elsewhere (S3), which the page only links to."""
    parts = urlsplit(url)
    if parts.path.startswith("/files/local/") and parts.netloc in ("", request.host):
        return f"{parts.path}?{parts.query}" if parts.query else parts.path
    return None


@blp.page("/applications/<int:application_id>")
def application(application_id):
    return _application_page(application_id)


def _act(application_id: int, section: str, call, *, done: str):
    """Run an action; a refusal (schema or service) shows the page again with its message in
    `section` and the refusal's status, else back to the page (POST → redirect → GET)."""
    try:
        call()
    except REFUSALS as refused:
        if isinstance(refused, DomainError) and refused.status == 404:
            raise
        return _application_page(
            application_id, status=_status(refused), errors={section: _problem(refused)}
        )
    target = url_for(".application", application_id=application_id, done=done)
    return redirect(f"{target}#{section}", 303)


@blp.page("/applications/<int:application_id>/documents/<int:check_id>/decision", methods=("POST",))
def decide_document(application_id, check_id):
    """Verify or reject a submitted document (a note is needed to reject)."""

    def call():
        data = schemas.DocumentDecisionSchema().load(_fields("result", "note"))
        decisions.decide_document(
            actor=signed_in().principal,
            application_id=application_id,
            check_id=check_id,
            **data,
        )

    return _act(application_id, "identity", call, done="document")


@blp.page("/applications/<int:application_id>/intro-call", methods=("POST",))
def schedule_intro_call(application_id):
    """Schedule the intro call (a datetime-local field, read as UTC), or move it."""

    def call():
        fields = _fields("scheduled_at")
        if "scheduled_at" in fields:
            fields["scheduled_at"] = _utc(fields["scheduled_at"])
        data = schemas.IntroCallScheduleSchema().load(fields)
        decisions.schedule_intro_call(
            actor=signed_in().principal, application_id=application_id, **data
        )

    return _act(application_id, "intro-call", call, done="call_scheduled")


@blp.page("/applications/<int:application_id>/intro-call/outcome", methods=("POST",))
def intro_call_outcome(application_id):
    """Record how the scheduled call went, with notes."""

    def call():
        data = schemas.IntroCallOutcomeSchema().load(_fields("outcome", "note"))
        decisions.record_intro_call_outcome(
            actor=signed_in().principal, application_id=application_id, **data
        )

    return _act(application_id, "intro-call", call, done="call_recorded")


@blp.page("/applications/<int:application_id>/approve", methods=("POST",))
def approve(application_id):
    def call():
        data = schemas.ApproveSchema().load(_fields("note"))
        decisions.approve(actor=signed_in().principal, application_id=application_id, **data)

    return _act(application_id, "decision", call, done="approved")


@blp.page("/applications/<int:application_id>/reject", methods=("POST",))
def reject(application_id):
    def call():
        data = schemas.RejectSchema().load(_fields("reason"))
        decisions.reject(actor=signed_in().principal, application_id=application_id, **data)

    return _act(application_id, "decision", call, done="rejected")


@blp.page("/applications/<int:application_id>/request-info", methods=("POST",))
def request_info(application_id):
    """Ask the applicant for more information; the application stays under way."""

    def call():
        data = schemas.InfoRequestCreateSchema().load(_fields("reason"))
        decisions.request_info(actor=signed_in().principal, application_id=application_id, **data)

    return _act(application_id, "decision", call, done="info_requested")


@blp.page(
    "/applications/<int:application_id>/members/<int:member_id>/skills/<slug>/verify",
    methods=("POST",),
)
def verify_skill(application_id, member_id, slug):
    """Verify a claimed skill (as POST /members/{id}/skills/{slug}/verify): no test needed."""

    def call():
        set_skill_verified(
            actor=signed_in().principal, member_id=member_id, slug=slug, verified=True
        )

    return _act(application_id, "skill-tests", call, done="skill_verified")


@blp.page(
    "/applications/<int:application_id>/members/<int:member_id>/skill-tests/<slug>/reset",
    methods=("POST",),
)
def reset_retry(application_id, member_id, slug):
    """Let the applicant retry a failed skill test now (the retry-delay override)."""

    def call():
        reset_retry_delay(actor=signed_in().principal, member_id=member_id, skill_slug=slug)

    return _act(application_id, "skill-tests", call, done="retry_reset")


# --- bulk actions -----------------------------------------------------------------------------


def _picked() -> list[int]:
    picked = request.form.getlist("application_ids")
    ids = list(dict.fromkeys(int(value) for value in picked if value.isdigit()))
    if not ids:
        raise Unprocessable(
            _("tick at least one application"),
            errors={"form": {"application_ids": ["required"]}},
        )
    if len(ids) > BULK_LIMIT:
        raise Unprocessable(
            _("at most %(n)s applications at once", n=BULK_LIMIT),
            errors={"form": {"application_ids": ["too many"]}},
        )
    return ids


def _each(ids: list[int], call) -> list[dict]:
    """Run `call(id)` for each id in a savepoint of its own: a refusal rolls back that item
    only. Each result: the id, done or not, and the message."""
    results = []
    for item in ids:
        try:
            with db.session.begin_nested():
                message = call(item)
            results.append({"id": item, "done": True, "message": message})
        except REFUSALS as refused:
            results.append({"id": item, "done": False, "message": _problem(refused)})
    return results


@blp.page("/bulk/approve", methods=("POST",))
def bulk_approve():
    """Approve each ticked application through the same service as one approval."""
    actor = signed_in().principal
    ids = _picked()

    def approve_one(application_id: int) -> str:
        decisions.approve(actor=actor, application_id=application_id)
        return _("approved")

    return _bulk_page(_("Approve applications"), _each(ids, approve_one))


@blp.page("/bulk/verify-skill", methods=("POST",))
def bulk_verify_skill():
    """Verify one skill for the members of the ticked applications."""
    actor = signed_in().principal
    ids = _picked()
    slug = (request.form.get("skill") or "").strip()
    if not slug:
        raise Unprocessable(_("choose a skill"), errors={"form": {"skill": ["required"]}})

    def verify_one(application_id: int) -> str:
        member_id = queue.application_for_staff(application_id).member_id
        set_skill_verified(actor=actor, member_id=member_id, slug=slug, verified=True)
        return _("%(skill)s verified", skill=slug)

    return _bulk_page(_("Verify a skill: %(skill)s", skill=slug), _each(ids, verify_one))


def _bulk_page(title: str, results: list[dict]):
    done = sum(result["done"] for result in results)
    return render(
        "onboarding/bulk.html",
        title=title,
        results=results,
        done=done,
        refused=len(results) - done,
    )
