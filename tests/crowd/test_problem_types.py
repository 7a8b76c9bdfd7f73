"""Every named domain error has a unique, stable problem type listed in the OpenAPI document."""

import importlib
import re
from pathlib import Path

from crowd import DOMAINS
from crowd.core.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    named_errors,
)

ROOT = Path(__file__).resolve().parents[2]
GENERIC = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Unprocessable,
    TooManyRequests,
    ServiceUnavailable,
)
# Errors with a status no generic class has (402 of a declined payment, 413 of an upload past
# its limit).
OWN_STATUS = {"PaymentError", "TooLargeBody", "ExportGone", "InvitationGone"}
# Slugs clients branch on: a rename or removal breaks them, so this list only ever grows.
PUBLISHED = {
    "bad-request",
    "unauthorized",
    "forbidden",
    "not-found",
    "conflict",
    "validation-failed",
    "too-many-requests",
    "service-unavailable",
    "contention",
    "internal-server-error",
    "scope-missing",
    "session-required",
    "idempotency-key-reused",
    "idempotency-key-in-progress",
    "sign-in-locked",
    "account-deactivated",
    "email-taken",
    "account-already-deactivated",
    "account-active",
    "member-closed",
    "payment-failed",
    "payment-conflict",
    "payment-provider-unavailable",
    "offer-taken",
    "offer-expired",
    "offer-already-answered",
    "no-longer-eligible",
    "schedule-clash",
    "dispatcher-accepts",
    "job-state-conflict",
    "job-not-confirmable",
    "job-not-cancellable",
    "job-not-startable",
    "check-in-not-open",
    "job-not-completable",
    "job-not-disputable",
    "job-not-assignable",
    "job-not-withdrawable",
    "offers-pending",
    "no-candidate-left",
    "job-not-reviewable",
    "already-reviewed",
    "run-already-requested",
    "payout-account-missing",
    "payout-account-provider-retired",
    "payout-account-country-mismatch",
    "payment-method-missing",
    "nothing-captured",
    "payment-disputed",
    "refund-too-large",
    "webhook-signature-invalid",
    "insufficient-balance",
    "ledger-key-used",
    "already-reversed",
    "reversal-not-reversible",
    "plan-exists",
    "plan-in-use",
    "standard-plan-stays",
    "plan-inactive",
    "plan-assignment-overlap",
    "ticket-state-conflict",
    "ticket-closed",
    "no-party-to-wait-on",
    "dispute-needs-resolution",
    "ticket-not-closed",
    "already-rated",
    "already-disputed",
    "resolution-not-open",
    "proposal-on-hold",
    "proposal-already-answered",
    "ticket-not-about-a-job",
    "settlement-not-possible",
    "proposal-no-longer-fits",
    "application-not-open",
    "check-pending",
    "check-already-decided",
    "nothing-to-reapply",
    "not-an-applicant",
    "reapply-later",
    "intro-call-passed",
    "no-intro-call-scheduled",
    "steps-incomplete",
    "house-rules-outdated",
    "skill-test-exists",
    "skill-test-passed",
    "attempt-under-way",
    "skill-test-retry-later",
    "attempt-submitted",
    "attempt-expired",
    "training-module-exists",
    "training-not-allowed",
    "attended-in-person-only",
    "already-ranked",
    "no-level-yet",
    "plan-not-offered",
    "rule-set-not-draft",
    "rule-set-superseded",
    "mentorship-state-conflict",
    "mentorship-not-active",
    "already-graduated",
    "has-mentor",
    "not-a-starter",
    "mentor-unavailable",
    "not-eligible-to-mentor",
    "feedback-already-given",
    "too-late-to-shadow",
    "already-shadowing",
    "badge-revoked",
    "badge-expired",
    "period-already-evaluated",
    "period-superseded",
    "period-not-over",
    "event-state-conflict",
    "event-started",
    "event-not-started",
    "event-full",
    "invitation-state-conflict",
    "invitation-not-accepted",
    "broadcast-state-conflict",
    "member-state-conflict",
    "address-limit-reached",
    "favourite-limit-reached",
    "block-limit-reached",
    "member-blocked",
    "referral-state-conflict",
    "reward-not-payable",
    "referral-code-disabled",
    "channel-code-taken",
    "group-archived",
    "group-slug-taken",
    "thread-locked",
    "post-hidden",
    "edit-window-closed",
    "posting-rate-limited",
    "already-muted",
    "mute-lifted",
    "mute-ended",
    "already-reported",
    "report-already-decided",
    "article-state-conflict",
    "article-slug-taken",
    "category-slug-taken",
    "article-already-linked",
    "already-in-organisation",
    "last-owner",
    "organisation-state-conflict",
    "organisation-invitation-open",
    "organisation-invitation-gone",
}


def _import_every_errors_module() -> None:
    """Import each domain's errors modules, also those nothing imports at start-up."""
    for domain in DOMAINS:
        folder = ROOT.joinpath(*domain.split("."))
        for path in sorted(folder.rglob("errors.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            importlib.import_module(".".join(relative.parts))


def _named() -> list[type[DomainError]]:
    _import_every_errors_module()
    return named_errors()


def test_every_slug_is_unique_and_well_formed():
    slugs = [cls.type_slug for cls in _named()]
    assert len(slugs) == len(set(slugs)), sorted(s for s in slugs if slugs.count(s) > 1)
    for slug in slugs:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug


def test_every_named_error_keeps_a_generic_status():
    for cls in _named():
        if cls in GENERIC or cls.__name__ in OWN_STATUS:
            continue
        assert issubclass(cls, GENERIC), f"{cls.__name__} subclasses no generic error"
        generic = next(base for base in cls.__mro__ if base in GENERIC)
        assert cls.status == generic.status, cls.__name__
        assert cls.title != generic.title, f"{cls.__name__} needs its own title"


def test_every_problem_type_is_in_the_openapi_document(client):
    named = _named()
    listed = client.get("/api/v1/openapi.json").json["x-problem-types"]
    for cls in named:
        entry = listed.get(cls.type_slug)
        assert entry, f"{cls.type_slug} is not listed in x-problem-types"
        assert entry == entry | {
            "status": cls.status,
            "title": cls.title,
            "type": f"https://crowd.example/problems/{cls.type_slug}",
        }, cls.type_slug
    assert set(listed) >= PUBLISHED, sorted(PUBLISHED - set(listed))
