"""Who may do what: one entry per operation of the API, the source of the authorization matrix
and of the fuzzing's list of operations.

The roles come from the spec (`x-roles`, set by `@blp.auth`): a signed-in caller of another
role gets 403, an anonymous one 401, unless the entry says the operation is public. The entry
adds what the spec cannot say: which object the path names (a key of the matrix's world, see
world.py), which parties own it and so get through (their staff too, unless `staff=False`),
and a valid body, so that a refusal is about the caller and not about the data. Everybody else
whose role is allowed gets `refusal` (404: the object does not exist for them).

A new operation fails test_every_operation_has_an_entry until it is added here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from crowd.core.db import utcnow
from tests.organisations.helpers import COMPANY as ORGANISATION

# Which world object a path parameter names, unless an entry says otherwise.
PATH_KEYS = {
    "token_id": "token",
    "time_off_id": "time_off",
    "member_id": "member",
    "slug": "skill",
    "skill_slug": "skill",
    "address_id": "address",
    "customer_id": "customer",
    "notification_id": "notification",
    "job_id": "job",
    "offer_id": "offer",
    "application_id": "application",
    "check_id": "document_check",
    "attempt_id": "attempt",
    "test_id": "skill_test",
    "question_id": "question",
    "ruleset_id": "ruleset",
    "ticket_id": "ticket",
    "action": "action",
    "resolution_id": "resolution",
    "mentorship_id": "mentorship",
    "session_id": "mentor_session",
    "badge_id": "badge",
    "event_id": "event",
    "invitation_id": "invitation",
    "broadcast_id": "broadcast",
    "group_id": "topic_group",
    "thread_id": "topic_thread",
    "post_id": "topic_post",
    "report_id": "topic_report",
    "mute_id": "community_mute",
    "ref": "article",
    "category_id": "help_category",
    "link_id": "help_link",
    "referral_id": "referral",
    "channel_id": "channel",
    "user_id": "account",
    "device_id": "device",
    "document_id": "document",
    "file_id": "file",
    "export_id": "export",
    "organisation_id": "organisation",
}


@dataclass(frozen=True)
class Access:
    """How one operation is reached and by whom (see the module docstring)."""

    owners: tuple[str, ...] = ()
    staff: bool = True
    refusal: int = 404
    # Parties refused otherwise, where documented (a party who sees the object but may not act).
    refused: dict[str, int] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    public: bool = False
    # The status every caller gets, when it is fixed (a webhook without a valid signature).
    exact: int | None = None
    # A 404 is a fair answer to an allowed caller who has none of the thing (GET /me/mentor).
    missing_ok: bool = False


def own(*owners: str, **kwargs) -> Access:
    return Access(owners=owners, **kwargs)


OPEN = Access()
PUBLIC = Access(public=True)
A = ("customer", "member")  # both parties of A's job
LINKS = {"refresh_url": "https://app.example/refresh", "return_url": "https://app.example/done"}
REASON = {"reason": "Plans changed"}


def _when(hours: float) -> str:
    return (utcnow() + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def _job_body() -> dict:
    start = utcnow() + timedelta(days=2)
    return {
        "category": "tv_audio",
        "skills": ["tv_wall_mount"],
        "title": "Mount a TV",
        "description": "Brick wall.",
        "device": {"kind": "tv"},
        "address_id": "@address",
        "windows": [
            {
                "starts_at": start.replace(microsecond=0).isoformat(),
                "ends_at": (start + timedelta(hours=4)).replace(microsecond=0).isoformat(),
            }
        ],
        "duration_minutes": 90,
        "pricing": {"kind": "fixed", "amount": 12000},
        "currency": "EUR",
    }


def _event_body() -> dict:
    return {
        "kind": "meetup",
        "title": "Meetup",
        "starts_at": _when(24 * 20),
        "ends_at": _when(24 * 20 + 2),
        "venue": "Werkstatt",
        "city": "Berlin",
        "country": "DE",
        "capacity": 10,
    }


LEVELS = [
    {
        "rank": 1,
        "code": "starter",
        "name": "Starter",
        "requirements": [],
        "max_concurrent_jobs": 3,
        "plan_codes": ["standard"],
    }
]
PERIOD = {"date_from": "2024-01-01", "date_to": "2024-01-31"}


def table() -> dict[str, Access]:
    """The entries, built when asked (bodies hold times relative to now)."""
    return {
        # --- health, accounts, credentials ------------------------------------------------
        "GET /healthz": PUBLIC,
        "GET /readyz": PUBLIC,
        "POST /api/v1/accounts/customers": Access(
            public=True,
            body={"email": "new@example.test", "password": "long enough pw", "display_name": "N"},
        ),
        "POST /api/v1/accounts/members": Access(
            public=True,
            body={
                "email": "newm@example.test",
                "password": "long enough pw",
                "display_name": "N",
                "kind": "private",
            },
        ),
        "POST /api/v1/accounts/staff": Access(
            body={
                "email": "staff@example.test",
                "password": "long enough pw",
                "display_name": "S",
                "role": "community_manager",
            }
        ),
        "POST /api/v1/auth/tokens": Access(
            public=True, body={"email": "@email:customer", "password": "correct horse battery"}
        ),
        "GET /api/v1/auth/tokens": OPEN,
        # A user's tokens are theirs alone, staff included.
        "DELETE /api/v1/auth/tokens/{token_id}": own("customer", staff=False),
        "POST /api/v1/auth/api-keys": Access(body={"name": "Shop system", "scopes": ["jobs:read"]}),
        "GET /api/v1/me": OPEN,
        # Every party chooses their own language.
        "PATCH /api/v1/me": Access(body={"locale": "de"}),
        # Every party changes their own password with their own session (204).
        "POST /api/v1/me/password": Access(
            body={"current_password": "correct horse battery", "new_password": "purple tractor 77"}
        ),
        # The same 202 for any address; an unknown code is 422 for everyone.
        "POST /api/v1/auth/password-resets": Access(public=True, body={"email": "@email:customer"}),
        "POST /api/v1/auth/password-resets/redeem": Access(
            public=True, body={"token": "crp_not-a-code", "password": "purple tractor 77"}
        ),
        # Staff act on a customer's account (an active one, and one deactivated already).
        "POST /api/v1/users/{user_id}/deactivation": Access(body={"reason": "Offboarded"}),
        "DELETE /api/v1/users/{user_id}/deactivation": Access(
            path={"user_id": "deactivated_account"}
        ),
        # Alerts for community managers: their own settings; admins anyone's.
        "GET /api/v1/staff/me/alerts": OPEN,
        "PATCH /api/v1/staff/me/alerts": Access(body={"digest": "daily"}),
        "GET /api/v1/accounts/staff/{user_id}/alerts": Access(path={"user_id": "cm_account"}),
        "PATCH /api/v1/accounts/staff/{user_id}/alerts": Access(
            path={"user_id": "cm_account"}, body={"responsibilities": [{"queue": "tickets"}]}
        ),
        "GET /api/v1/skills": PUBLIC,
        "GET /api/v1/audit-log": OPEN,
        "GET /api/v1/settings": OPEN,
        "PATCH /api/v1/settings": Access(body={"JOBS_WAVE_SIZE": 4}),
        # --- privacy: retention rules (staff read, admins change) and the runs' log ----------
        "GET /api/v1/retention-rules": OPEN,
        "PUT /api/v1/retention-rules/{kind}": Access(
            path={"kind": "retention_rule"}, body={"keep_days": 60}
        ),
        "GET /api/v1/retention-runs": OPEN,
        # --- files ------------------------------------------------------------------------
        # Anyone signed in starts an upload (a purpose they have no use for is 422).
        "POST /api/v1/files": Access(
            body={"purpose": "profile_photo", "content_type_hint": "image/png", "size": 100}
        ),
        # An upload is its uploader's alone, staff included.
        "POST /api/v1/files/{file_id}/confirm": own("member", staff=False),
        "PUT /api/v1/files/{file_id}/content": own("member", staff=False),
        "GET /api/v1/files/{file_id}": own("member", staff=False),
        # --- privacy: data exports ----------------------------------------------------------
        # Everyone signed in exports their own data; an export is its person's alone (the
        # admin who asked for it included).
        "POST /api/v1/me/data-exports": OPEN,
        "GET /api/v1/me/data-exports": OPEN,
        "GET /api/v1/me/data-exports/{export_id}": own("member", staff=False),
        "POST /api/v1/me/data-exports/{export_id}/download": own("member", staff=False),
        # Admins ask on a person's behalf.
        "POST /api/v1/users/{user_id}/data-exports": OPEN,
        # --- members ----------------------------------------------------------------------
        # A member shows an upload of their own; another's file is a 422 on `file_id`.
        "PUT /api/v1/me/profile-photo": own(
            "member", body={"file_id": "@photo_file"}, refused={"other_member": 422}
        ),
        "DELETE /api/v1/me/profile-photo": OPEN,
        # The photo is part of the public face: like the member's reviews.
        "GET /api/v1/members/{member_id}/profile-photo": OPEN,
        "GET /api/v1/me/member": OPEN,
        "PATCH /api/v1/me/member": Access(body={"bio": "Wall mounts since 2001."}),
        "PUT /api/v1/me/member/skills": Access(
            body={"skills": [{"skill": "tv_wall_mount", "proficiency": 2}]}
        ),
        "GET /api/v1/me/member/availability": OPEN,
        "PUT /api/v1/me/member/availability": Access(
            body={"slots": [{"weekday": 0, "start": "08:00", "end": "18:00"}]}
        ),
        "POST /api/v1/me/member/time-off": Access(
            body={"starts_at": _when(24 * 60), "ends_at": _when(24 * 61)}
        ),
        "GET /api/v1/me/member/time-off": OPEN,
        "DELETE /api/v1/me/member/time-off/{time_off_id}": own("member"),
        "POST /api/v1/me/member/status": Access(body={"action": "pause"}),
        "GET /api/v1/members": OPEN,
        "GET /api/v1/members/{member_id}": own("member"),
        "POST /api/v1/members/{member_id}/status": Access(
            body={"action": "suspend", "reason": "Matrix"}
        ),
        "GET /api/v1/members/{member_id}/status-history": own("member"),
        "POST /api/v1/members/{member_id}/skills/{slug}/verify": OPEN,
        "DELETE /api/v1/members/{member_id}/skills/{slug}/verify": OPEN,
        # --- customers --------------------------------------------------------------------
        "GET /api/v1/me/customer": OPEN,
        "PATCH /api/v1/me/customer": Access(body={"display_name": "Renamed"}),
        "GET /api/v1/me/customer/addresses": OPEN,
        "POST /api/v1/me/customer/addresses": Access(
            body={
                "label": "Office",
                "street": "Friedrichstr. 1",
                "postcode": "10117",
                "city": "Berlin",
                "country": "DE",
                "lat": 52.51,
                "lon": 13.39,
            }
        ),
        "GET /api/v1/me/customer/addresses/{address_id}": own("customer"),
        "PATCH /api/v1/me/customer/addresses/{address_id}": own("customer", body={"label": "Flat"}),
        "DELETE /api/v1/me/customer/addresses/{address_id}": own("customer"),
        "GET /api/v1/me/customer/favourites": OPEN,
        # Members are not the customers' objects: any customer may favour or block one.
        "PUT /api/v1/me/customer/favourites/{member_id}": OPEN,
        "DELETE /api/v1/me/customer/favourites/{member_id}": Access(missing_ok=True),
        "GET /api/v1/me/customer/blocked": OPEN,
        "PUT /api/v1/me/customer/blocked/{member_id}": Access(body={"reason": "Late"}),
        "DELETE /api/v1/me/customer/blocked/{member_id}": Access(missing_ok=True),
        # --- provider companies -----------------------------------------------------------
        # Member A owns a company; member B belongs to none (404 on "my company" is fair).
        "POST /api/v1/organisations": Access(body=ORGANISATION),
        "GET /api/v1/me/organisation": Access(missing_ok=True),
        "PATCH /api/v1/me/organisation": Access(missing_ok=True, body={"trade_name": "Renamed"}),
        "GET /api/v1/me/organisation/members": Access(missing_ok=True),
        "PATCH /api/v1/me/organisation/members/{member_id}": own(
            "member", path={"member_id": "org_technician"}, body={"role": "dispatcher"}
        ),
        "DELETE /api/v1/me/organisation/members/{member_id}": own(
            "member", path={"member_id": "org_technician"}
        ),
        "POST /api/v1/me/organisation/leave": Access(missing_ok=True),
        "POST /api/v1/me/organisation/invitations": Access(
            missing_ok=True, body={"email": "new-tech@example.test", "role": "technician"}
        ),
        "GET /api/v1/me/organisation/invitations": Access(missing_ok=True),
        "DELETE /api/v1/me/organisation/invitations/{invitation_id}": own(
            "member", path={"invitation_id": "org_invitation"}
        ),
        # The invitation was sent to member B's address: anyone else's token is no invitation.
        "POST /api/v1/organisation-invitations/accept": own(
            "other_member", body={"token": "@org_invite_token"}
        ),
        # The dispatcher's side: member A owns the company (owners dispatch too) and holds the
        # pending offer; member B belongs to no company (404).
        "GET /api/v1/me/organisation/offers": Access(missing_ok=True),
        "GET /api/v1/me/organisation/jobs": Access(missing_ok=True),
        "POST /api/v1/me/organisation/offers/{offer_id}/accept": own(
            "member", body={"technician_member_id": "@member"}
        ),
        # A's jobs were assigned before A founded the company: none is the company's (404).
        "POST /api/v1/me/organisation/jobs/{job_id}/reassign": own(
            "member", missing_ok=True, body={"technician_member_id": "@org_technician"}
        ),
        # The company's onboarding: its owner accepts and uploads (member B has no company).
        "POST /api/v1/me/organisation/house-rules/accept": Access(
            missing_ok=True, body={"version": 1}
        ),
        "PUT /api/v1/me/organisation/insurance-certificate": Access(
            missing_ok=True, body={"file_id": "@org_certificate"}
        ),
        "GET /api/v1/organisations/{organisation_id}/insurance-certificate": own("member"),
        "POST /api/v1/organisations/{organisation_id}/checks/decision": Access(
            body={"decision": "verified"}
        ),
        # The levels view: staff's of any company; owners' and dispatchers' of their own.
        "GET /api/v1/organisations/{organisation_id}/levels": OPEN,
        "GET /api/v1/me/organisation/levels": Access(missing_ok=True),
        # The company's money: its owner sets the payout account (A has none yet: 404 is
        # fair), owners and dispatchers read the statement; staff read any company's.
        "POST /api/v1/me/organisation/payout-account": Access(missing_ok=True, body=LINKS),
        "GET /api/v1/me/organisation/payout-account": Access(missing_ok=True),
        "GET /api/v1/me/organisation/statements": Access(missing_ok=True, query=PERIOD),
        "GET /api/v1/organisations/{organisation_id}/statements": Access(query=PERIOD),
        "PUT /api/v1/organisations/{organisation_id}/plan": Access(body={"plan_code": "flat29"}),
        "GET /api/v1/organisations": OPEN,
        "GET /api/v1/organisations/{organisation_id}": OPEN,
        "POST /api/v1/organisations/{organisation_id}/activate": OPEN,
        "POST /api/v1/organisations/{organisation_id}/suspend": OPEN,
        "GET /api/v1/customers": OPEN,
        "GET /api/v1/customers/{customer_id}": own("customer"),
        "PUT /api/v1/customers/{customer_id}/billing": Access(body={"billing": "card"}),
        "GET /api/v1/customers/{customer_id}/billing": OPEN,
        # --- billing profiles (invoicing): one's own; staff read anyone's ------------------
        "GET /api/v1/me/billing-profile": OPEN,
        # A member's valid profile (a customer who is a person gets 422 for the VAT ID).
        "PUT /api/v1/me/billing-profile": Access(
            body={
                "legal_name": "Matrix Montage",
                "street": "Friedrichstr. 1",
                "postcode": "10117",
                "city": "Berlin",
                "country": "DE",
                "vat_id": "DE136695976",
            }
        ),
        "GET /api/v1/members/{member_id}/billing-profile": OPEN,
        "GET /api/v1/customers/{customer_id}/billing-profile": OPEN,
        # --- notifications (everyone's own inbox, staff included) -------------------------
        "GET /api/v1/me/notifications": OPEN,
        "POST /api/v1/me/notifications/{notification_id}/read": own("customer", staff=False),
        "POST /api/v1/me/notifications/read-all": OPEN,
        # --- push: everyone's own devices; the offline outbox for admins --------------------
        "POST /api/v1/me/devices": Access(
            body={
                "platform": "android",
                "token": "f0001:APA91b" + "A" * 140,
                "app_version": "2.4.1",
                "locale": "de-DE",
            }
        ),
        "GET /api/v1/me/devices": OPEN,
        "DELETE /api/v1/me/devices/{device_id}": own("customer", staff=False),
        "GET /api/v1/push-outbox": OPEN,
        "GET /api/v1/me/notification-preferences": OPEN,
        "PUT /api/v1/me/notification-preferences": Access(body={"time_zone": "Europe/Berlin"}),
        "GET /api/v1/me/consents": OPEN,
        "POST /api/v1/me/consents": Access(body={"topic": "newsletter"}),
        "DELETE /api/v1/me/consents/{topic}": Access(path={"topic": "newsletter_topic"}),
        "GET /api/v1/unsubscribe/{token}": Access(
            public=True, exact=404, path={"token": "forged_token"}
        ),
        "POST /api/v1/unsubscribe/{token}": Access(
            public=True, exact=404, path={"token": "forged_token"}
        ),
        "GET /api/v1/consents/confirm/{token}": Access(
            public=True, exact=404, path={"token": "forged_token"}
        ),
        "POST /api/v1/consents/confirm/{token}": Access(
            public=True, exact=404, path={"token": "forged_token"}
        ),
        "GET /api/v1/admin/deliveries": OPEN,
        "GET /api/v1/admin/suppressions": OPEN,
        "DELETE /api/v1/admin/suppressions/{suppression_id}": Access(
            path={"suppression_id": "nothing"}, missing_ok=True
        ),
        "GET /api/v1/admin/outbox": OPEN,
        "GET /api/v1/admin/outbox/{email_id}": Access(
            path={"email_id": "nothing"}, missing_ok=True
        ),
        # --- jobs -------------------------------------------------------------------------
        "POST /api/v1/jobs": Access(body=_job_body()),
        "GET /api/v1/jobs": OPEN,
        "GET /api/v1/jobs/{job_id}": own("customer"),
        "GET /api/v1/jobs/{job_id}/events": own("customer"),
        # The work report's files: the job's customer and member, and staff.
        "GET /api/v1/jobs/{job_id}/work-report/files/{file_id}": own(
            *A, path={"job_id": "done_job", "file_id": "work_report_file"}
        ),
        "POST /api/v1/jobs/{job_id}/confirm": own("customer", path={"job_id": "done_job"}),
        "POST /api/v1/jobs/{job_id}/cancel": own("customer", body=REASON),
        "POST /api/v1/jobs/{job_id}/dispute": own(
            "customer", path={"job_id": "done_job"}, body={"reason": "Crooked"}
        ),
        "GET /api/v1/me/offers": OPEN,
        "POST /api/v1/offers/{offer_id}/accept": own("member"),
        "POST /api/v1/offers/{offer_id}/decline": own("member", body={"reason": "too_far"}),
        "GET /api/v1/me/jobs": OPEN,
        "GET /api/v1/me/jobs/{job_id}": own("member"),
        "POST /api/v1/me/jobs/{job_id}/start": own("member"),
        "POST /api/v1/me/jobs/{job_id}/complete": own(
            "member", body={"notes": "Done", "minutes_spent": 60}
        ),
        "POST /api/v1/me/jobs/{job_id}/cancel": own("member", body=REASON),
        "GET /api/v1/staff/jobs": OPEN,
        "GET /api/v1/staff/jobs/{job_id}": OPEN,
        "POST /api/v1/staff/jobs/{job_id}/cancel": Access(body=REASON),
        "POST /api/v1/staff/jobs/{job_id}/confirm": Access(path={"job_id": "done_job"}),
        "POST /api/v1/staff/jobs/{job_id}/dispatch": Access(path={"job_id": "open_job"}),
        "POST /api/v1/staff/jobs/{job_id}/assign": Access(
            path={"job_id": "open_job"}, body={"member_id": "@member"}
        ),
        "POST /api/v1/staff/jobs/{job_id}/offers": Access(
            path={"job_id": "open_job"}, body={"member_id": "@member"}
        ),
        "GET /api/v1/staff/dispatch-board": OPEN,
        "GET /api/v1/jobs/{job_id}/candidates": Access(path={"job_id": "open_job"}),
        "GET /api/v1/jobs/{job_id}/candidates/ineligible": Access(path={"job_id": "open_job"}),
        "GET /api/v1/jobs/{job_id}/candidates/{member_id}/eligibility": Access(
            path={"job_id": "open_job"}
        ),
        "POST /api/v1/jobs/{job_id}/reviews": own(
            *A, path={"job_id": "done_job"}, body={"stars": 5}
        ),
        "GET /api/v1/jobs/{job_id}/reviews": own(*A, path={"job_id": "done_job"}),
        # Published reviews are for every signed-in user.
        "GET /api/v1/members/{member_id}/reviews": OPEN,
        # --- money ------------------------------------------------------------------------
        "GET /api/v1/plans": OPEN,
        "POST /api/v1/plans": Access(
            body={"code": "pct15", "name": "15 %", "kind": "percentage", "percent_bp": 1500}
        ),
        "PATCH /api/v1/plans/{code}": Access(path={"code": "plan"}, body={"name": "Flat"}),
        "POST /api/v1/members/{member_id}/plan": Access(body={"plan_code": "flat29"}),
        "GET /api/v1/members/{member_id}/plans": own("member"),
        "GET /api/v1/me/plan": OPEN,
        "GET /api/v1/ledger/accounts": OPEN,
        "GET /api/v1/ledger/transactions": OPEN,
        "GET /api/v1/me/balance": OPEN,
        "POST /api/v1/me/payout-account": Access(body={**LINKS, "country": "DE"}),
        "GET /api/v1/me/payout-account": OPEN,
        "GET /api/v1/members/{member_id}/payout-account": OPEN,
        "PUT /api/v1/me/customer/payment-method": Access(body={"payment_method": "pm_card_visa"}),
        "GET /api/v1/me/customer/payment-method": OPEN,
        "GET /api/v1/jobs/{job_id}/payment": own(*A),
        "POST /api/v1/jobs/{job_id}/payment/refresh": own("customer", staff=False),
        "POST /api/v1/staff/jobs/{job_id}/refunds": Access(
            path={"job_id": "done_job"}, body={"amount": 100, "reason": "Goodwill"}
        ),
        "POST /api/v1/payouts/runs": Access(body={}),
        "GET /api/v1/payouts/runs": OPEN,
        "GET /api/v1/payouts/runs/{run_id}": Access(path={"run_id": "payout_run"}),
        "GET /api/v1/me/payouts": OPEN,
        "POST /api/v1/billing/monthly-fees/run": Access(body={}),
        "GET /api/v1/billing/monthly-fees": OPEN,
        "GET /api/v1/me/statements": Access(query=PERIOD),
        "GET /api/v1/members/{member_id}/statements": own("member", query=PERIOD),
        "GET /api/v1/reports/revenue": Access(query=PERIOD),
        # The signature is the credential: without a valid one, 400 for everybody.
        "POST /api/v1/webhooks/stripe": Access(public=True, exact=400, body={}),
        # --- invoicing ----------------------------------------------------------------------
        # Customer A's invoice (an e-invoice: it has XML too); member A is no party to it.
        "GET /api/v1/documents": OPEN,
        "GET /api/v1/documents/{document_id}": own("customer"),
        "GET /api/v1/documents/{document_id}/pdf": own("customer"),
        "GET /api/v1/documents/{document_id}/xml": own("customer"),
        "GET /api/v1/documents/export": Access(query={"from": "2024-01-01", "to": "2024-01-31"}),
        "GET /api/v1/tax-rates": Access(query={"country": "DE"}),
        "POST /api/v1/tax-rates": Access(
            body={
                "country": "DE",
                "category": "standard",
                "rate_bp": 2000,
                "valid_from": (utcnow() + timedelta(days=30)).date().isoformat(),
            }
        ),
        # --- onboarding -------------------------------------------------------------------
        "GET /api/v1/me/onboarding": OPEN,
        "POST /api/v1/me/onboarding/documents": Access(
            body={
                "kind": "identity",
                "document_type": "passport",
                "issuer": "Stadt Berlin",
                "issuing_country": "DE",
            }
        ),
        # The images of the applicant's identity check: theirs alone (another member: 404).
        "PUT /api/v1/me/onboarding/documents/{check_id}/images": own(
            "applicant",
            body={"front_file_id": None, "back_file_id": None, "selfie_file_id": None},
        ),
        "GET /api/v1/me/onboarding/documents/{check_id}/images": own("applicant"),
        "GET /api/v1/me/onboarding/house-rules": OPEN,
        "POST /api/v1/me/onboarding/house-rules/accept": Access(body={"version": 1}),
        "GET /api/v1/me/onboarding/self-billing": OPEN,
        "PUT /api/v1/me/onboarding/self-billing": Access(
            body={"agreed": True, "text_version": "2026-01"}
        ),
        "POST /api/v1/me/onboarding/reapply": Access(body={}),
        "POST /api/v1/house-rules": Access(body={"title": "Rules v2", "body": "Be kind."}),
        "GET /api/v1/house-rules": OPEN,
        "GET /api/v1/house-rules/current": OPEN,
        "GET /api/v1/applications": OPEN,
        "GET /api/v1/applications/{application_id}": OPEN,
        "POST /api/v1/applications/{application_id}/documents/{check_id}/decision": Access(
            body={"result": "verified"}
        ),
        # Admins and the CMs responsible for onboarding (the world's CM has no
        # responsibilities: every queue is theirs); each read is on the audit log.
        "GET /api/v1/applications/{application_id}/documents/{check_id}/images": OPEN,
        "PUT /api/v1/applications/{application_id}/intro-call": Access(
            body={"scheduled_at": _when(48)}
        ),
        "POST /api/v1/applications/{application_id}/intro-call/outcome": Access(
            body={"outcome": "passed"}
        ),
        "POST /api/v1/applications/{application_id}/approve": Access(body={}),
        "POST /api/v1/applications/{application_id}/reject": Access(body={"reason": "No"}),
        "POST /api/v1/applications/{application_id}/request-info": Access(
            body={"reason": "Please send the back of your ID card."}
        ),
        "GET /api/v1/applications/step-counts": OPEN,
        "GET /api/v1/me/skill-tests": OPEN,
        "POST /api/v1/me/skill-tests/{skill_slug}/attempts": OPEN,
        "GET /api/v1/me/skill-test-attempts": OPEN,
        "GET /api/v1/me/skill-test-attempts/{attempt_id}": own("member"),
        "POST /api/v1/me/skill-test-attempts/{attempt_id}/submit": own(
            "member", body={"answers": []}
        ),
        "POST /api/v1/skill-tests": Access(
            body={
                "skill": "soundbar_install",
                "questions": [{"prompt": "Fuse?", "options": ["Yes", "No"], "correct": [0]}],
            }
        ),
        "GET /api/v1/skill-tests": OPEN,
        "GET /api/v1/skill-tests/{test_id}": OPEN,
        "PATCH /api/v1/skill-tests/{test_id}": Access(body={"pass_mark_percent": 70}),
        "POST /api/v1/skill-tests/{test_id}/questions": Access(
            body={"prompt": "Stud finder?", "options": ["Yes", "No"], "correct": [0]}
        ),
        "DELETE /api/v1/skill-tests/{test_id}/questions/{question_id}": OPEN,
        "POST /api/v1/members/{member_id}/skill-tests/{skill_slug}/reset-retry-delay": OPEN,
        "GET /api/v1/levels/metrics": OPEN,
        "POST /api/v1/level-rulesets": Access(body={"levels": LEVELS}),
        "GET /api/v1/level-rulesets": OPEN,
        "GET /api/v1/level-rulesets/active": OPEN,
        "GET /api/v1/level-rulesets/{ruleset_id}": OPEN,
        "PUT /api/v1/level-rulesets/{ruleset_id}": Access(body={"levels": LEVELS}),
        "POST /api/v1/level-rulesets/{ruleset_id}/activate": OPEN,
        "POST /api/v1/level-rulesets/{ruleset_id}/dry-run": OPEN,
        "POST /api/v1/level-evaluations": OPEN,
        "GET /api/v1/members/{member_id}/level": OPEN,
        "POST /api/v1/members/{member_id}/level/lock": Access(body={"reason": "Matrix"}),
        "DELETE /api/v1/members/{member_id}/level/lock": OPEN,
        "GET /api/v1/members/{member_id}/level/changes": own("member"),
        "GET /api/v1/me/level/changes": OPEN,
        "GET /api/v1/levels": OPEN,
        "GET /api/v1/me/level": OPEN,
        "POST /api/v1/me/level/plan": Access(body={"plan_code": "standard"}),
        "POST /api/v1/training-modules": Access(
            body={"code": "first-aid", "title": "First aid", "duration_minutes": 45}
        ),
        "GET /api/v1/training-modules": OPEN,
        "PATCH /api/v1/training-modules/{code}": Access(
            path={"code": "training"}, body={"title": "Safety"}
        ),
        "POST /api/v1/me/training/{code}/complete": Access(path={"code": "training"}),
        "GET /api/v1/me/training": OPEN,
        "GET /api/v1/members/{member_id}/training": own("member"),
        "POST /api/v1/members/{member_id}/training/{code}": Access(path={"code": "training"}),
        "DELETE /api/v1/members/{member_id}/training/{code}": Access(
            path={"code": "training"}, missing_ok=True
        ),
        # --- support ----------------------------------------------------------------------
        "POST /api/v1/tickets": Access(
            body={"subject": "Question", "category": "other", "description": "How?"}
        ),
        "GET /api/v1/tickets": OPEN,
        "POST /api/v1/tickets/bulk-assign": Access(
            body={"assignee_id": "@user:community_manager", "ticket_ids": ["@ticket"]}
        ),
        "GET /api/v1/tickets/{ticket_id}": own(*A),
        "PATCH /api/v1/tickets/{ticket_id}": Access(body={"priority": "high"}),
        "POST /api/v1/tickets/{ticket_id}/assign": Access(
            body={"assignee_id": "@user:community_manager"}
        ),
        "POST /api/v1/tickets/{ticket_id}/actions/{action}": Access(body={}),
        "POST /api/v1/tickets/{ticket_id}/messages": own(*A, body={"body": "Any news?"}),
        "GET /api/v1/tickets/{ticket_id}/messages": own(*A),
        # A file of a message both parties read (the dispute's opening).
        "GET /api/v1/tickets/{ticket_id}/messages/{message_id}/attachments/{file_id}": own(
            *A, path={"message_id": "ticket_message", "file_id": "ticket_file"}
        ),
        "GET /api/v1/tickets/{ticket_id}/events": OPEN,
        "POST /api/v1/tickets/{ticket_id}/rating": own(*A, body={"score": 4}),
        # Staff only; the world's ticket has no chargeback, so staff get a fair 404.
        "GET /api/v1/tickets/{ticket_id}/chargeback-evidence": Access(missing_ok=True),
        "POST /api/v1/tickets/{ticket_id}/chargeback-evidence": Access(
            body={"evidence": {"uncategorized_text": "Work done"}, "submit": False},
            missing_ok=True,
        ),
        "GET /api/v1/tickets/{ticket_id}/resolutions": own(*A),
        "POST /api/v1/tickets/{ticket_id}/resolutions": Access(
            body={"kind": "release", "member_at_fault": False, "note": "Fine"}
        ),
        "POST /api/v1/tickets/{ticket_id}/resolutions/{resolution_id}/answer": own(
            *A, body={"answer": "accept"}
        ),
        "POST /api/v1/tickets/{ticket_id}/resolutions/{resolution_id}/withdraw": OPEN,
        "POST /api/v1/tickets/{ticket_id}/resolutions/{resolution_id}/impose": OPEN,
        "POST /api/v1/members/{member_id}/sanctions": Access(
            body={"kind": "warn", "reason": "Late twice"}
        ),
        "GET /api/v1/members/{member_id}/sanctions": own("member"),
        # The contact history: staff only, not even the person it is about.
        "GET /api/v1/members/{member_id}/contacts": OPEN,
        "POST /api/v1/members/{member_id}/contacts": Access(
            body={"kind": "call", "channel": "phone", "summary": "Called about the job"}
        ),
        "GET /api/v1/customers/{customer_id}/contacts": OPEN,
        "POST /api/v1/customers/{customer_id}/contacts": Access(
            body={"kind": "note", "summary": "Prefers email"}
        ),
        # --- programmes -------------------------------------------------------------------
        "GET /api/v1/me/mentor/eligibility": OPEN,
        # Member B is no mentor: 404 is their answer on their own mentor profile.
        "GET /api/v1/me/mentor": Access(missing_ok=True),
        "PUT /api/v1/me/mentor": Access(
            body={
                "capacity": 2,
                "skills": ["tv_wall_mount"],
                "countries": ["DE"],
                "max_distance_km": 50,
            }
        ),
        "PATCH /api/v1/me/mentor": Access(body={"away_until": None}, missing_ok=True),
        "DELETE /api/v1/me/mentor": Access(missing_ok=True),
        "GET /api/v1/me/mentorships": OPEN,
        "POST /api/v1/me/mentees": Access(body={"mentee_id": "@profile:mentee"}),
        "GET /api/v1/mentorships": OPEN,
        "POST /api/v1/mentorships": Access(
            body={"mentor_id": "@member", "mentee_id": "@profile:mentee"}
        ),
        "GET /api/v1/mentorships/unmatched": OPEN,
        "GET /api/v1/mentorships/{mentorship_id}": own("member", "mentee"),
        "POST /api/v1/mentorships/{mentorship_id}/accept": own("member"),
        "POST /api/v1/mentorships/{mentorship_id}/decline": own(
            "member", body={"reason": "Too busy"}
        ),
        "POST /api/v1/mentorships/{mentorship_id}/end": own(
            "member", "mentee", body={"reason": "Graduated"}
        ),
        "POST /api/v1/mentorships/{mentorship_id}/graduate": Access(body={}),
        "POST /api/v1/mentorships/{mentorship_id}/reassign": Access(
            body={"mentor_id": "@member", "reason": "A mentor nearer to the mentee"}
        ),
        "POST /api/v1/mentorships/{mentorship_id}/sessions": own(
            "member", body={"kind": "chat", "occurred_at": _when(-2)}
        ),
        "GET /api/v1/mentorships/{mentorship_id}/sessions": own("member", "mentee"),
        # The mentor sees the session but the feedback is the mentee's (403, documented).
        "POST /api/v1/mentorships/{mentorship_id}/sessions/{session_id}/feedback": own(
            "mentee", refused={"member": 403}, body={"feedback": "Helpful", "rating": 5}
        ),
        "POST /api/v1/mentorships/{mentorship_id}/shadow": own("member", body={"job_id": "@job"}),
        "GET /api/v1/jobs/{job_id}/shadows": own(*A),
        "POST /api/v1/top-performer-runs": Access(body={}),
        "GET /api/v1/top-performer-runs": OPEN,
        "GET /api/v1/top-performer-runs/{run_id}": Access(path={"run_id": "top_performer_run"}),
        "GET /api/v1/top-performer-runs/{run_id}/decisions": Access(
            path={"run_id": "top_performer_run"}
        ),
        "GET /api/v1/top-performers": OPEN,
        "POST /api/v1/top-performer-badges/{badge_id}/revoke": Access(body={"reason": "Matrix"}),
        "GET /api/v1/me/top-performer": OPEN,
        "POST /api/v1/events": Access(body=_event_body()),
        "GET /api/v1/events": OPEN,
        "GET /api/v1/events/{event_id}": OPEN,
        "PATCH /api/v1/events/{event_id}": Access(body={"title": "Renamed"}),
        "POST /api/v1/events/{event_id}/publish": OPEN,
        "POST /api/v1/events/{event_id}/cancel": OPEN,
        "POST /api/v1/events/{event_id}/eligible": Access(body={}),
        "GET /api/v1/events/{event_id}/invitations": OPEN,
        "POST /api/v1/events/{event_id}/invitations": Access(body={"member_ids": ["@member"]}),
        "POST /api/v1/events/{event_id}/attendance": Access(body={"attended": ["@member"]}),
        "GET /api/v1/me/invitations": OPEN,
        "POST /api/v1/me/invitations/{invitation_id}/rsvp": own(
            "member", body={"answer": "accept"}
        ),
        "POST /api/v1/broadcasts": Access(
            body={
                "kind": "newsletter",
                "title": "News",
                "body": "Hello",
                "segment": {"countries": ["DE"]},
            }
        ),
        "GET /api/v1/broadcasts": OPEN,
        "GET /api/v1/broadcasts/preview-segment": OPEN,
        "GET /api/v1/broadcasts/{broadcast_id}": OPEN,
        "POST /api/v1/broadcasts/{broadcast_id}/preview": OPEN,
        "POST /api/v1/broadcasts/{broadcast_id}/send": OPEN,
        "POST /api/v1/broadcasts/{broadcast_id}/unschedule": OPEN,
        "GET /api/v1/broadcasts/{broadcast_id}/recipients": OPEN,
        "GET /api/v1/me/broadcasts": OPEN,
        # Only the members the broadcast reached have it (member A, a mentor).
        "POST /api/v1/me/broadcasts/{broadcast_id}/read": own("member"),
        "GET /api/v1/programmes/health": OPEN,
        # --- topic groups (member A belongs to the mentors' group; member B does not qualify
        # for it, so it does not exist for them) ---------------------------------------------
        "POST /api/v1/topic-groups": Access(
            body={
                "slug": "tv-mounting",
                "name": "TV mounting",
                "kind": "programme",
                "programme": "mentees",
            }
        ),
        "GET /api/v1/topic-groups": OPEN,
        "GET /api/v1/topic-groups/{group_id}": own("member"),
        "PATCH /api/v1/topic-groups/{group_id}": Access(body={"name": "Mentors' corner"}),
        "POST /api/v1/topic-groups/{group_id}/archive": Access(body={"reason": "Matrix"}),
        # Joining a group one does not qualify for: 403 naming the rule (documented).
        "POST /api/v1/topic-groups/{group_id}/join": own("member", refused={"other_member": 403}),
        "POST /api/v1/topic-groups/{group_id}/leave": own("member"),
        "POST /api/v1/topic-groups/{group_id}/threads": own(
            "member", body={"title": "Anchors", "body": "Which ones?"}
        ),
        "GET /api/v1/topic-groups/{group_id}/threads": own("member"),
        "GET /api/v1/topic-threads/{thread_id}": own("member"),
        "POST /api/v1/topic-threads/{thread_id}/replies": own("member", body={"body": "Nylon."}),
        # Staff see the post but only its author edits it (403, documented).
        "PATCH /api/v1/topic-posts/{post_id}": own(
            "member",
            staff=False,
            refused={"community_manager": 403, "admin": 403},
            body={"body": "Nylon, 8 mm."},
        ),
        # Member A moderates as a mentor in their group.
        "POST /api/v1/topic-posts/{post_id}/hide": own("member", body={"reason": "Off topic"}),
        "POST /api/v1/topic-posts/{post_id}/unhide": own("member", body={}),
        "POST /api/v1/topic-threads/{thread_id}/{action}": own(
            "member", path={"action": "thread_action"}, body={}
        ),
        "GET /api/v1/topic-groups/{group_id}/moderation-log": own("member"),
        # A post by staff: member A may report it, member B cannot see it.
        "POST /api/v1/topic-posts/{post_id}/reports": own(
            "member", path={"post_id": "staff_post"}, body={"reason": "spam"}
        ),
        "GET /api/v1/topic-reports": OPEN,
        "POST /api/v1/topic-reports/{report_id}/decide": Access(body={"decision": "dismissed"}),
        "POST /api/v1/members/{member_id}/community-mutes": Access(body={"reason": "Matrix"}),
        "POST /api/v1/community-mutes/{mute_id}/lift": OPEN,
        "GET /api/v1/community-mutes": OPEN,
        # --- help centre (the article is published for members; customers do not see it) --
        "POST /api/v1/help/categories": Access(body={"slug": "payouts", "name": "Payouts"}),
        "GET /api/v1/help/categories": OPEN,
        "PATCH /api/v1/help/categories/{category_id}": Access(body={"name": "First steps"}),
        "POST /api/v1/help/articles": Access(
            body={
                "slug": "drywall-anchors",
                "category_id": "@help_category",
                "title": "Drywall anchors",
                "body": "Cavity anchors hold less than you think.",
            }
        ),
        "GET /api/v1/help/articles": OPEN,
        "GET /api/v1/help/articles/{ref}": own("member", "other_member"),
        "PATCH /api/v1/help/articles/{ref}": Access(body={"audience": "everyone"}),
        "POST /api/v1/help/articles/{ref}/versions": Access(
            body={"title": "Mounting a TV", "body": "Find the studs, then the cables."}
        ),
        "GET /api/v1/help/articles/{ref}/versions": OPEN,
        "POST /api/v1/help/articles/{ref}/publish": Access(path={"ref": "draft_article"}, body={}),
        "POST /api/v1/help/articles/{ref}/archive": OPEN,
        "GET /api/v1/help/search": Access(query={"q": "studs"}),
        "POST /api/v1/help/articles/{ref}/feedback": own(
            "member", "other_member", body={"helpful": False, "comment": "Too short"}
        ),
        "GET /api/v1/help/articles/{ref}/feedback": OPEN,
        "POST /api/v1/help/articles/{ref}/links": Access(
            body={"target_kind": "training_module", "target_key": "safety-basics"}
        ),
        "DELETE /api/v1/help/articles/{ref}/links/{link_id}": OPEN,
        # --- recruitment (member A referred a friend; both members have a code) ----------
        "GET /api/v1/me/referral": OPEN,
        "GET /api/v1/me/referrals": OPEN,
        "GET /api/v1/referrals": OPEN,
        "GET /api/v1/referrals/{referral_id}": OPEN,
        "POST /api/v1/referrals/{referral_id}/approve": OPEN,
        "POST /api/v1/referrals/{referral_id}/refuse": Access(body={"reason": "Same household"}),
        "POST /api/v1/referral-codes/{code}/disable": Access(path={"code": "referral_code"}),
        "POST /api/v1/recruitment-channels": Access(
            body={"kind": "campaign", "code": "SPRING24", "name": "Spring campaign"}
        ),
        "GET /api/v1/recruitment-channels": OPEN,
        "GET /api/v1/recruitment-channels/{channel_id}": OPEN,
        "PATCH /api/v1/recruitment-channels/{channel_id}": Access(body={"active": False}),
        "GET /api/v1/recruitment/funnel": OPEN,
        # --- privacy ----------------------------------------------------------------------
        # Customers and members erase their own account with their password (A's open jobs
        # answer 409 erasure-blocked, still through); each call is rolled back.
        "POST /api/v1/me/erasure": Access(body={"password": "correct horse battery"}),
        # Admins erase a customer's or member's account (a fresh customer's), with a reason.
        "POST /api/v1/users/{user_id}/erasure": Access(body={"reason": "Asked by letter"}),
        # --- crowd health -----------------------------------------------------------------
        "GET /api/v1/crowd-health": OPEN,
        "GET /api/v1/crowd-health/service": OPEN,
    }


# Every operation the table knows: the fuzzing runs over these, the matrix checks them all.
OPERATIONS = tuple(sorted(table()))

# The operations a customer's API key reaches, with the scope each needs (README, "API keys").
# Every other operation refuses API keys whatever their scopes: 403.
API_KEY_ACCESS = {
    "GET /api/v1/jobs": "jobs:read",
    "GET /api/v1/jobs/{job_id}": "jobs:read",
    "GET /api/v1/jobs/{job_id}/events": "jobs:read",
    "GET /api/v1/jobs/{job_id}/reviews": "jobs:read",
    "POST /api/v1/jobs": "jobs:write",
    "POST /api/v1/jobs/{job_id}/confirm": "jobs:write",
    "POST /api/v1/jobs/{job_id}/cancel": "jobs:write",
    "GET /api/v1/me/customer/payment-method": "payments:read",
    "GET /api/v1/jobs/{job_id}/payment": "payments:read",
    "PUT /api/v1/me/customer/payment-method": "payments:write",
}


# --- fields a client must not set --------------------------------------------------------------

# A request field with one of these names (or endings) sets state, money, rank or ownership:
# it may appear in a request schema only where PROTECTED_ALLOWED says why.
PROTECTED_NAMES = frozenset(
    {
        "status",
        "state",
        "verified",
        "role",
        "level",
        "level_rank",
        "commission",
        "fee",
        "price",
        "amount",
        "member_id",
        "customer_id",
        "user_id",
        "owner_id",
        "member_ids",
    }
)
PROTECTED_ENDINGS = (
    "_status",
    "_state",
    "_amount",
    "_fee",
    "_price",
    "_bp",
    "_level",
    "_level_rank",
    "_member_id",
    "_customer_id",
    "_user_id",
)


def is_protected(name: str) -> bool:
    return name in PROTECTED_NAMES or name.endswith(PROTECTED_ENDINGS)


@dataclass(frozen=True)
class Allowed:
    """Why an operation may take a protected field; staff_only: parties sending it get 422."""

    reason: str
    staff_only: bool = False


# "METHOD /path" → {field (dotted for nested objects): why it may be set there}.
PROTECTED_ALLOWED = {
    "POST /api/v1/accounts/staff": {"role": Allowed("an admin creates a CM or an admin")},
    "POST /api/v1/me/organisation/invitations": {
        "role": Allowed(
            "a company's role, not an account's: owners invite in any, dispatchers technicians only"
        )
    },
    "POST /api/v1/me/organisation/offers/{offer_id}/accept": {
        "technician_member_id": Allowed(
            "the company's dispatcher names one of its own members, eligible for the job"
        )
    },
    "POST /api/v1/me/organisation/jobs/{job_id}/reassign": {
        "technician_member_id": Allowed(
            "the company's dispatcher names one of its own members, eligible for the job"
        )
    },
    "PATCH /api/v1/me/organisation/members/{member_id}": {
        "role": Allowed("the company's owner sets roles inside the company, never an account's")
    },
    "POST /api/v1/jobs": {
        "pricing.amount": Allowed("the customer prices their own job"),
        "min_level": Allowed("the customer asks for experience; matching enforces it"),
        "preferred_member_id": Allowed("a wish; matching checks the member's eligibility"),
    },
    "POST /api/v1/staff/jobs/{job_id}/assign": {
        "member_id": Allowed("staff assign a member directly")
    },
    "POST /api/v1/staff/jobs/{job_id}/offers": {
        "member_id": Allowed("staff offer the job to a member they chose; matching checks them")
    },
    "POST /api/v1/plans": {
        "percent_bp": Allowed("admins define commission plans"),
        "monthly_fee_amount": Allowed("admins define commission plans"),
        "fixed_fee_amount": Allowed("admins define commission plans"),
    },
    "PATCH /api/v1/plans/{code}": {
        "percent_bp": Allowed("admins define plans; a plan in use keeps its amounts (409)"),
        "monthly_fee_amount": Allowed("admins define plans; a plan in use keeps its amounts"),
        "fixed_fee_amount": Allowed("admins define plans; a plan in use keeps its amounts"),
    },
    "POST /api/v1/tax-rates": {
        "rate_bp": Allowed("admins record VAT rates as the law sets them, from today on")
    },
    "POST /api/v1/staff/jobs/{job_id}/refunds": {
        "amount": Allowed("staff refund part of a captured payment, at most what is left")
    },
    "POST /api/v1/members/{member_id}/level/lock": {
        "level": Allowed("staff pin a member's level on purpose")
    },
    "POST /api/v1/tickets": {
        "customer_id": Allowed("staff open a ticket about a customer", staff_only=True),
        "member_id": Allowed("staff open a ticket about a member", staff_only=True),
    },
    "POST /api/v1/tickets/{ticket_id}/resolutions": {
        "refund_amount": Allowed("staff propose the settlement; the parties answer it"),
        "goodwill_amount": Allowed("staff propose the settlement; the parties answer it"),
    },
    "POST /api/v1/events/{event_id}/invitations": {
        "member_ids": Allowed("staff invite eligible members")
    },
    "POST /api/v1/topic-groups": {
        "min_level_rank": Allowed("staff set who qualifies for a group; nobody's level changes")
    },
    "PATCH /api/v1/topic-groups/{group_id}": {
        "min_level_rank": Allowed("staff set who qualifies for a group; nobody's level changes")
    },
    "POST /api/v1/help/articles": {
        "min_level_rank": Allowed("staff target an article at levels; nobody's level changes"),
        "max_level_rank": Allowed("staff target an article at levels; nobody's level changes"),
    },
    "PATCH /api/v1/help/articles/{ref}": {
        "min_level_rank": Allowed("staff target an article at levels; nobody's level changes"),
        "max_level_rank": Allowed("staff target an article at levels; nobody's level changes"),
    },
}
