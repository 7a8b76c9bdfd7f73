"""Sanctions: warn, suspend (out of matching, offers withdrawn), reinstate — with the audit."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from jobs.models import Job, Offer
from members.models import Member, MemberStatusChange
from support.models import Sanction
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, notifications_for
from tests.payouts.job_money_helpers import assigned_job, post_job
from tests.support.ticket_helpers import assign, events, opened

API = "/api/v1/members/{}/sanctions"


def sanction(client, staff, member, kind: str, reason: str = "Rude to a customer", **body):
    return client.post(
        API.format(member.profile_id),
        json={"kind": kind, "reason": reason, **body},
        headers=staff.headers,
    )


def sanctioned(app, client, staff, member, kind: str, **body) -> dict:
    response = sanction(client, staff, member, kind, **body)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    return response.get_json()


def offers_of(job_id: int) -> list[Offer]:
    db.session.expire_all()
    return list(db.session.scalars(select(Offer).where(Offer.job_id == job_id).order_by(Offer.id)))


def status_of(member) -> str:
    db.session.expire_all()
    return db.session.get(Member, member.profile_id).status


@pytest.fixture
def rules(app, monkeypatch):
    def _set(**values):
        for name, value in values.items():
            monkeypatch.setitem(app.config, f"JOBS_{name.upper()}", value)

    return _set


def test_a_warning_is_recorded_and_told_without_changing_status(app, client, cm):
    member = active_member()
    body = sanctioned(app, client, cm, member, "warn", reason="Late twice")
    assert (body["kind"], body["reason"], body["member_status"]) == ("warn", "Late twice", "active")
    assert (body["created_by_id"], body["offers_withdrawn"]) == (cm.user_id, 0)
    assert status_of(member) == "active"
    (told,) = notifications_for(member.user_id, "support.sanction_warn")
    assert "Late twice" in told.body


def test_suspending_withdraws_pending_offers_and_dispatch_moves_on(
    app, client, customer, cm, rules
):
    rules(wave_size=1)
    suspended = active_member()
    job_id = post_job(app, client, customer)
    assert [(o.member_id, o.status) for o in offers_of(job_id)] == [
        (suspended.profile_id, "pending")
    ]
    next_in_line = active_member()

    body = sanctioned(app, client, cm, suspended, "suspend", reason="Fraud suspected")

    assert (body["member_status"], body["offers_withdrawn"]) == ("suspended", 1)
    assert status_of(suspended) == "suspended"
    offers = offers_of(job_id)
    assert [(o.member_id, o.status) for o in offers] == [
        (suspended.profile_id, "withdrawn"),
        (next_in_line.profile_id, "pending"),
    ]
    change = db.session.scalars(
        select(MemberStatusChange).where(MemberStatusChange.member_id == suspended.profile_id)
    ).all()[-1]
    assert (change.from_status, change.to_status, change.reason, change.changed_by_id) == (
        "active",
        "suspended",
        "Fraud suspected",
        cm.user_id,
    )
    # The suspension closed the account too: the member's token no longer works at all.
    accepted = client.post(f"/api/v1/offers/{offers[0].id}/accept", headers=suspended.headers)
    assert accepted.status_code == 401
    assert offers_of(job_id)[0].status == "withdrawn"


def test_a_suspended_member_receives_no_offers_until_reinstated(app, client, customer, cm):
    member = active_member()
    sanctioned(app, client, cm, member, "suspend")
    job_id = post_job(app, client, customer)
    assert offers_of(job_id) == []

    body = sanctioned(app, client, cm, member, "reinstate", reason="Cleared")

    assert body["member_status"] == "active"
    later = post_job(app, client, customer)
    assert [o.member_id for o in offers_of(later)] == [member.profile_id]


def test_suspension_leaves_assigned_jobs_with_the_member_and_lists_them(app, client, customer, cm):
    job_id, member = assigned_job(app, client, customer, cm)
    body = sanctioned(app, client, cm, member, "suspend")
    assert body["assigned_job_ids"] == [job_id]
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.status, job.assigned_member_id) == ("assigned", member.profile_id)


@pytest.mark.parametrize(
    ("first", "then", "state"),
    [("suspend", "suspend", "suspended"), (None, "reinstate", "active")],
)
def test_a_status_that_does_not_allow_it_is_a_409(app, client, cm, first, then, state):
    member = active_member()
    if first:
        sanctioned(app, client, cm, member, first)
    response = sanction(client, cm, member, then)
    assert response.status_code == 409 and response.get_json()["state"] == state
    assert len(db.session.scalars(select(Sanction)).all()) == (1 if first else 0)


def test_an_applicant_cannot_be_suspended(client, cm, member):
    response = sanction(client, cm, member, "suspend")
    assert response.status_code == 409 and response.get_json()["state"] == "applicant"


def test_a_sanction_may_name_a_ticket_about_the_member(app, client, customer, cm):
    job_id, member = assigned_job(app, client, customer, cm)
    ticket = opened(client, customer, job_id=job_id, category="behaviour")
    assert assign(client, cm, ticket["id"]).status_code == 200
    body = sanctioned(app, client, cm, member, "warn", ticket_id=ticket["id"])
    assert body["ticket_id"] == ticket["id"]
    (event,) = events(ticket["id"], "sanction")
    assert event.data == {"sanction_id": body["id"], "kind": "warn"}

    unrelated = opened(client, customer)  # about the customer's account
    response = sanction(client, cm, member, "warn", ticket_id=unrelated["id"])
    assert response.status_code == 422 and "ticket_id" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "ban", "reason": "x"}, "kind"),
        ({"kind": "warn"}, "reason"),
        ({"kind": "warn", "reason": "   "}, "reason"),
        ({"kind": "warn", "reason": "x", "ticket_id": "7"}, "ticket_id"),
        ({"kind": "warn", "reason": "x", "until": "tomorrow"}, "until"),
    ],
)
def test_an_invalid_sanction_is_a_422_naming_the_field(client, cm, body, field):
    member = active_member()
    response = client.post(API.format(member.profile_id), json=body, headers=cm.headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_only_staff_sanction_and_an_unknown_member_is_404(client, cm, customer):
    member = active_member()
    for actor in (customer, member):
        assert sanction(client, actor, member, "warn").status_code == 403
    assert client.post(API.format(member.profile_id), json={}).status_code == 401
    missing = client.post(
        API.format(999999), json={"kind": "warn", "reason": "x"}, headers=cm.headers
    )
    assert missing.status_code == 404


def test_staff_and_the_member_read_the_record_others_do_not(app, client, cm, admin):
    member = active_member()
    first = sanctioned(app, client, cm, member, "warn")
    mine = client.get(API.format(member.profile_id), headers=member.headers).get_json()
    assert [s["id"] for s in mine["items"]] == [first["id"]]
    second = sanctioned(app, client, admin, member, "suspend")
    # Suspended, the member is signed out; staff still read the whole record.
    assert client.get(API.format(member.profile_id), headers=member.headers).status_code == 401
    for reader in (cm, admin):
        page = client.get(API.format(member.profile_id), headers=reader.headers).get_json()
        assert [(s["id"], s["kind"]) for s in page["items"]] == [
            (first["id"], "warn"),
            (second["id"], "suspend"),
        ]
        assert page["page"]["total"] == 2
    other = make_actor("member")
    assert client.get(API.format(member.profile_id), headers=other.headers).status_code == 404
    customer = make_actor("customer")
    assert client.get(API.format(member.profile_id), headers=customer.headers).status_code == 403


def test_sanctioning_is_idempotent_by_key(app, client, cm):
    member = active_member()
    headers = {**cm.headers, "Idempotency-Key": "warn-1"}
    body = {"kind": "warn", "reason": "Late"}
    first = client.post(API.format(member.profile_id), json=body, headers=headers)
    again = client.post(API.format(member.profile_id), json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(db.session.scalars(select(Sanction)).all()) == 1
