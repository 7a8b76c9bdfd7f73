"""People through the Flask test client: the search (id, email, phone, name prefix; grouped by
type), the member page (level, plan, sanctions, contact history), sanctions and contacts
recorded through the console exactly as the API records them, the customer page, CSRF and the
refusal of anyone but staff."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crowd.extensions import db
from customers.models import Customer
from members.models import Member, MemberStatusChange
from support.models import Sanction, StaffContact
from tests.console.helpers import csrf_of, make_staff, post_form, sign_in
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import active_member, post_job_via_api


@pytest.fixture
def cm(client):
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    return staff


def _html(response) -> str:
    return response.get_data(as_text=True)


def _search(client, q: str) -> str:
    response = client.get("/console/people/", query_string={"q": q})
    assert response.status_code == 200
    return _html(response)


def _section(html: str, name: str) -> str:
    found = re.search(rf'<section id="found-{name}".*?</section>', html, re.S)
    assert found, name
    return found.group(0)


def test_search_finds_a_member_by_id_email_phone_and_name_prefix(client, cm):
    member = active_member(display_name="Zoltan Quaas", phone="+49 170 5551234")
    other = active_member(display_name="Zora Quaas")
    for q in (str(member.profile_id), f"#{member.profile_id}", member.email.upper(), "Zoltan"):
        members = _section(_search(client, q), "members")
        assert f'data-member="{member.profile_id}"' in members, q
        assert f'data-member="{other.profile_id}"' not in members, q
    # Phones are stored as typed: the number as typed, or without its spaces, dashes, dots.
    for q in ("+49 170 5551234", " +49 170 5551234 "):
        assert f'data-member="{member.profile_id}"' in _section(_search(client, q), "members"), q
    both = _section(_search(client, "zo"), "members")
    assert f'data-member="{member.profile_id}"' in both
    assert f'data-member="{other.profile_id}"' in both
    # A prefix, not a substring; LIKE wildcards are literal.
    assert "data-member" not in _section(_search(client, "oltan"), "members")
    assert "data-member" not in _section(_search(client, "z%"), "members")
    link = f'href="/console/people/members/{member.profile_id}"'
    assert link in _search(client, "Zoltan")


def test_search_finds_customers_jobs_and_tickets_grouped(client, cm):
    customer = make_actor("customer", display_name="Quirin Obermaier")
    db.session.get(Customer, customer.profile_id).phone = "0301234567"
    db.session.commit()
    job = post_job_via_api(client, customer, title="Hang a lamp")
    assert job.status_code == 201, job.get_json()
    job_id = job.get_json()["id"]
    ticket = client.post(
        "/api/v1/tickets",
        json={"subject": "Lamp wobbles", "category": "other", "description": "Help."},
        headers=customer.headers,
    )
    ticket_id = ticket.get_json()["id"]
    for q in ("quirin", customer.email, "030 123-45 67", "0301234567"):
        customers = _section(_search(client, q), "customers")
        assert f'data-customer="{customer.profile_id}"' in customers, q
    html = _search(client, str(job_id))
    assert f'data-job="{job_id}"' in _section(html, "jobs")
    assert "Hang a lamp" in _section(html, "jobs")
    html = _search(client, f"#{ticket_id}")
    assert f'data-ticket="{ticket_id}"' in _section(html, "tickets")
    assert "Lamp wobbles" in html
    nothing = _search(client, "nobody-by-this-name")
    assert "data-member" not in nothing and "data-customer" not in nothing


def test_the_header_of_every_page_has_the_search(client, cm):
    html = _html(client.get("/console/my-work"))
    assert 'role="search"' in html and 'action="/console/people/"' in html


def test_member_page_shows_profile_level_plan_and_history(client, cm):
    member = active_member(display_name="Mira Page")
    html = _html(client.get(f"/console/people/members/{member.profile_id}"))
    assert "Mira Page" in html and member.email in html
    assert 'id="member-level"' in html and 'id="member-plan"' in html
    assert "Standard" in html or "standard" in html
    for section in ("profile", "level", "plan", "counters", "jobs", "tickets", "sanctions"):
        assert f'<section id="{section}"' in html
    assert '<section id="contacts"' in html
    assert client.get("/console/people/members/999999").status_code == 404


def test_warn_suspend_reinstate_through_the_console_as_the_api_does(client, cm):
    member = active_member()
    page = f"/console/people/members/{member.profile_id}"
    action = f"{page}/sanctions"
    response = post_form(client, page, action, kind="warn", reason="Late twice (§ 3.1)")
    assert response.status_code == 303
    response = post_form(client, page, action, kind="suspend", reason="No-show (§ 4.2)")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Member, member.profile_id).status == "suspended"
    html = _html(client.get(page))
    assert "No-show (§ 4.2)" in html and 'id="member-status">suspended' in html
    # The same record the API keeps and shows.
    sanctions = db.session.scalars(
        select(Sanction).where(Sanction.member_id == member.profile_id).order_by(Sanction.id)
    ).all()
    assert [(s.kind, s.reason, s.created_by_id) for s in sanctions] == [
        ("warn", "Late twice (§ 3.1)", cm.user_id),
        ("suspend", "No-show (§ 4.2)", cm.user_id),
    ]
    change = db.session.scalars(
        select(MemberStatusChange)
        .where(MemberStatusChange.member_id == member.profile_id)
        .order_by(MemberStatusChange.id.desc())
    ).first()
    assert (change.to_status, change.reason, change.changed_by_id) == (
        "suspended",
        "No-show (§ 4.2)",
        cm.user_id,
    )
    api_cm = make_actor("community_manager")
    listed = client.get(f"/api/v1/members/{member.profile_id}/sanctions", headers=api_cm.headers)
    assert [item["kind"] for item in listed.get_json()["items"]] == ["warn", "suspend"]
    # Suspending again: the service's 409, shown on the page, nothing recorded.
    again = post_form(client, page, action, kind="suspend", reason="Again")
    assert again.status_code == 409 and 'role="alert"' in _html(again)
    response = post_form(client, page, action, kind="reinstate", reason="Talked it through")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Member, member.profile_id).status == "active"
    assert db.session.query(Sanction).filter_by(member_id=member.profile_id).count() == 3


def test_a_sanction_without_reason_is_refused_by_the_apis_schema(client, cm):
    member = active_member()
    page = f"/console/people/members/{member.profile_id}"
    response = post_form(client, page, f"{page}/sanctions", kind="suspend", reason="  ")
    assert response.status_code == 422
    assert "reason" in _html(response)
    response = post_form(client, page, f"{page}/sanctions", kind="ban", reason="x")
    assert response.status_code == 422
    assert db.session.query(Sanction).filter_by(member_id=member.profile_id).count() == 0


def test_contact_history_newest_first_and_shared_with_the_api(client, cm):
    member = active_member()
    page = f"/console/people/members/{member.profile_id}"
    first = post_form(
        client,
        page,
        f"{page}/contacts",
        kind="call",
        channel="phone",
        summary="Called about the no-show",
        happened_at="2026-01-05T10:30",
    )
    assert first.status_code == 303
    second = post_form(client, page, f"{page}/contacts", kind="note", summary="Seems reliable")
    assert second.status_code == 303
    html = _html(client.get(page))
    assert html.index("Seems reliable") < html.index("Called about the no-show")
    api_cm = make_actor("community_manager")
    listed = client.get(f"/api/v1/members/{member.profile_id}/contacts", headers=api_cm.headers)
    items = listed.get_json()["items"]
    assert [(i["kind"], i["channel"], i["author_id"]) for i in items] == [
        ("note", "internal", cm.user_id),
        ("call", "phone", cm.user_id),
    ]
    assert items[1]["happened_at"].startswith("2026-01-05T10:30:00")
    refused = post_form(client, page, f"{page}/contacts", kind="call", summary="")
    assert refused.status_code == 422
    future = post_form(
        client, page, f"{page}/contacts", kind="call", summary="x", happened_at="2999-01-01T00:00"
    )
    assert future.status_code == 422
    assert db.session.query(StaffContact).filter_by(member_id=member.profile_id).count() == 2


def test_customer_page_contacts_and_billing(client, cm):
    customer = make_actor("customer", display_name="Carla Kunde")
    job = post_job_via_api(client, customer, title="Mount shelves")
    job_id = job.get_json()["id"]
    page = f"/console/people/customers/{customer.profile_id}"
    html = _html(client.get(page))
    assert "Carla Kunde" in html and customer.email in html
    assert f'data-job="{job_id}"' in html and 'id="customer-billing"' in html
    response = post_form(
        client,
        page,
        f"{page}/contacts",
        kind="email",
        channel="email",
        summary="Sent the invoice copy",
    )
    assert response.status_code == 303
    assert "Sent the invoice copy" in _html(client.get(page))
    # Invoicing is for business customers: the service's 422, shown on the page.
    refused = post_form(client, page, f"{page}/billing", billing="invoice", payment_terms_days="30")
    assert refused.status_code == 422 and "business" in _html(refused)
    assert post_form(client, page, f"{page}/billing", billing="card").status_code == 303


def test_forms_without_csrf_token_are_refused(client, cm):
    member = active_member()
    page = f"/console/people/members/{member.profile_id}"
    response = client.post(f"{page}/sanctions", data={"kind": "warn", "reason": "x"})
    assert response.status_code == 400
    response = client.post(
        f"{page}/contacts", data={"kind": "note", "summary": "x", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert db.session.query(Sanction).filter_by(member_id=member.profile_id).count() == 0
    assert db.session.query(StaffContact).filter_by(member_id=member.profile_id).count() == 0


@pytest.mark.parametrize("role", ["member", "customer"])
def test_members_and_customers_get_no_people_pages(client, role):
    actor = make_actor(role)
    member = active_member()
    html = _html(client.get("/console/sign-in"))
    response = client.post(
        "/console/sign-in",
        data={"csrf_token": csrf_of(html), "email": actor.email, "password": PASSWORD},
    )
    assert response.status_code == 403
    page = client.get(f"/console/people/members/{member.profile_id}")
    assert page.status_code == 303 and "/console/sign-in" in page.headers["Location"]
    assert client.get("/console/people/", query_string={"q": "x"}).status_code == 303


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/console/people/", query_string={"q": "someone"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/sign-in")
