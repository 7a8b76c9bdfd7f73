"""The console's ticket pages through the Flask test client: the queue and its filters, bulk
assignment, the ticket page and each action (CSRF required, staff only), messages and internal
notes, resolutions previewed, proposed, withdrawn and imposed, chargeback evidence."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from accounts.models import User
from console import sessions
from crowd.extensions import db
from support.models import Resolution, Ticket
from tests.console.helpers import csrf_of, make_staff, sign_in
from tests.console.ticket_helpers import dispute_for
from tests.factories import make_actor
from tests.payouts.conftest import ledger_sound  # noqa: F401
from tests.support.ticket_helpers import API, opened

pytestmark = pytest.mark.usefixtures("ledger_sound")
PAGE = "/console/tickets"


@pytest.fixture
def console_cm(client):
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    return staff


def _page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _post(client, page: str, action: str, expect: int = 303, **fields):
    token = csrf_of(_page(client, page))
    response = client.post(action, data={"csrf_token": token, **fields})
    assert response.status_code == expect, response.get_data(as_text=True)[:2000]
    return response


def _ticket(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_filters_by_assignee_search_and_status(client, customer, console_cm):
    mine = opened(client, customer, subject="Bracket came loose")["id"]
    loose = opened(client, customer, subject="Invoice question")["id"]
    _post(client, PAGE + "/", f"{PAGE}/{mine}/assign", assignee_id="me")
    html = _page(client, PAGE + "/")
    assert f'data-ticket="{mine}"' in html and f'data-ticket="{loose}"' in html
    html = _page(client, PAGE + "/?assignee=me")
    assert f'data-ticket="{mine}"' in html and f'data-ticket="{loose}"' not in html
    html = _page(client, PAGE + "/?assignee=none")
    assert f'data-ticket="{loose}"' in html and f'data-ticket="{mine}"' not in html
    html = _page(client, PAGE + "/?q=invoice")
    assert f'data-ticket="{loose}"' in html and f'data-ticket="{mine}"' not in html
    html = _page(client, f"{PAGE}/?q={customer.email}&status=open")
    assert f'data-ticket="{mine}"' in html and f'data-ticket="{loose}"' not in html
    assert _page(client, PAGE + "/?region=XYZ", 422)
    assert _page(client, PAGE + "/?sla_due_before=tomorrow", 422)


def test_the_queue_pages(client, customer, console_cm):
    for n in range(27):
        opened(client, customer, subject=f"Question {n}")
    html = _page(client, PAGE + "/")
    assert html.count("data-ticket=") == 25
    following = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert _page(client, following).count("data-ticket=") == 2


def test_bulk_assign_assigns_the_ticked_tickets(client, customer, console_cm):
    ids = [opened(client, customer, subject=f"Help {n}")["id"] for n in range(3)]
    other = make_staff()
    _post(
        client,
        PAGE + "/",
        f"{PAGE}/bulk-assign",
        ticket_ids=[str(i) for i in ids[:2]],
        assignee_id=str(other.user_id),
    )
    assert [_ticket(i).assignee_id for i in ids] == [other.user_id, other.user_id, None]
    assert [_ticket(i).status for i in ids[:2]] == ["open", "open"]
    _post(client, PAGE + "/", f"{PAGE}/bulk-assign", expect=422, assignee_id="me")


# --- who may ----------------------------------------------------------------------------------


def test_every_ticket_form_needs_the_csrf_token(client, customer, console_cm):
    ticket_id = opened(client, customer)["id"]
    for action in (
        f"{PAGE}/bulk-assign",
        f"{PAGE}/{ticket_id}/assign",
        f"{PAGE}/{ticket_id}/priority",
        f"{PAGE}/{ticket_id}/actions/escalate",
        f"{PAGE}/{ticket_id}/messages",
        f"{PAGE}/{ticket_id}/resolutions",
        f"{PAGE}/{ticket_id}/resolutions/1/withdraw",
        f"{PAGE}/{ticket_id}/resolutions/1/impose",
        f"{PAGE}/{ticket_id}/chargeback-evidence",
    ):
        response = client.post(action, data={"assignee_id": "me", "body": "x", "reason": "x"})
        assert response.status_code == 400, action
    assert _ticket(ticket_id).assignee_id is None and _ticket(ticket_id).status == "new"


@pytest.mark.parametrize("role", ["member", "customer"])
def test_members_and_customers_cannot_reach_the_ticket_pages(client, customer, role):
    ticket_id = opened(client, customer)["id"]
    party = make_actor(role)
    # Their API token is no console session.
    response = client.get(f"{PAGE}/{ticket_id}", headers=party.headers)
    assert response.status_code == 303 and "/console/sign-in" in response.headers["Location"]
    # Even a console session (they cannot sign in to get one) is refused.
    secret, _row = sessions.start(
        db.session.get(User, party.user_id), verified=True, ip=None, user_agent=None
    )
    db.session.commit()
    client.set_cookie("crowd_console", secret, path="/console")
    for url in (f"{PAGE}/", f"{PAGE}/{ticket_id}"):
        assert client.get(url).status_code in (403, 303)
        assert "Bracket" not in client.get(url).get_data(as_text=True)


def test_signed_out_goes_to_sign_in(client):
    response = client.get(PAGE + "/")
    assert response.status_code == 303 and "/console/sign-in" in response.headers["Location"]


# --- one ticket -------------------------------------------------------------------------------


def test_the_ticket_page_shows_the_thread_with_internal_notes_apart(
    app, client, customer, console_cm
):
    job_id, member, ticket_id = dispute_for(app, client, customer, console_cm.user_id)
    page = f"{PAGE}/{ticket_id}"
    _post(
        client,
        page,
        f"{page}/messages",
        body="Checked the photos: bracket undersized.",
        visibility="internal",
    )
    _post(client, page, f"{page}/messages", body="We are looking into it.", visibility="parties")
    _post(client, page, f"{page}/messages", body="Please send photos.", visibility="member")
    html = _page(client, page)
    internal = re.search(r'<li class="message internal"[^>]*>(.*?)</li>', html, re.S).group(1)
    assert "Internal note — not visible to customer or member" in internal
    assert "bracket undersized" in internal
    assert 'data-visibility="parties"' in html and "To the member only" in html
    # The job, the money and the parties beside it.
    assert "Job</h2>" not in html and f"#{job_id}" in html
    assert 'data-payment-status="succeeded"' in html or "data-payment-status=" in html
    assert 'data-held="yes"' in html
    assert customer.email in html and member.email in html
    # The customer reads no internal note through the API.
    seen = client.get(f"{API}/{ticket_id}/messages", headers=customer.headers).get_json()
    bodies = [m["body"] for m in seen["items"]]
    assert "We are looking into it." in bodies
    assert not any("undersized" in b or "photos" in b.lower() for b in bodies[1:])


def test_actions_offered_are_the_ones_the_state_allows(client, customer, console_cm):
    ticket_id = opened(client, customer)["id"]
    page = f"{PAGE}/{ticket_id}"
    html = _page(client, page)
    assert 'data-action="escalate"' in html and 'data-action="reopen"' not in html
    _post(client, page, f"{page}/assign", assignee_id="me")
    assert _ticket(ticket_id).assignee_id == console_cm.user_id
    _post(client, page, f"{page}/priority", priority="urgent")
    assert _ticket(ticket_id).priority == "urgent"
    _post(client, page, f"{page}/actions/wait_on_customer")
    html = _page(client, page)
    assert _ticket(ticket_id).sla_paused_at is not None and "Clock paused since" in html
    # No member on this ticket: nobody to wait on, so no such button.
    assert 'data-action="wait_on_member"' not in html
    _post(client, page, f"{page}/actions/mediate")
    assert _ticket(ticket_id).sla_paused_at is None
    _post(client, page, f"{page}/actions/escalate", reason="Needs a second opinion")
    assert _ticket(ticket_id).status == "escalated"
    assert 'data-action="take_over"' in _page(client, page)
    _post(client, page, f"{page}/actions/take_over")
    assert _ticket(ticket_id).status == "in_mediation"
    _post(client, page, f"{page}/actions/resolve", note="Explained the invoice")
    _post(client, page, f"{page}/actions/reopen")
    assert _ticket(ticket_id).status == "open"
    _post(client, page, f"{page}/actions/resolve", note="Explained it again")
    _post(client, page, f"{page}/actions/close")
    assert _ticket(ticket_id).status == "closed"
    html = _page(client, page)
    assert "data-action=" not in html and 'name="body"' not in html
    # An action the state does not allow is the service's 409.
    _post(client, page, f"{page}/actions/escalate", expect=409, reason="Too late")


# --- resolutions ------------------------------------------------------------------------------


def test_propose_a_percentage_refund_after_the_preview(app, client, customer, console_cm):
    _job, _member, ticket_id = dispute_for(app, client, customer, console_cm.user_id)
    page = f"{PAGE}/{ticket_id}"
    _post(client, page, f"{page}/actions/mediate")
    preview = _page(
        client,
        f"{page}/resolutions/preview?kind=split&customer_share_percent=30&note=Fair",
    )
    assert 'data-amount="customer_gets_back">36.00 EUR' in preview
    assert 'data-amount="member_gives_up">28.80 EUR' in preview
    assert 'data-amount="member_earning_after">67.20 EUR' in preview
    assert db.session.scalar(select(Resolution).where(Resolution.ticket_id == ticket_id)) is None
    token = csrf_of(preview)
    confirmed = client.post(
        f"{page}/resolutions",
        data={"csrf_token": token, "kind": "split", "customer_share_percent": "30", "note": "Fair"},
    )
    assert confirmed.status_code == 303
    resolution = db.session.scalar(select(Resolution).where(Resolution.ticket_id == ticket_id))
    assert (resolution.kind, resolution.refund_amount) == ("split", 3600)
    html = _page(client, page)
    assert f'data-resolution="{resolution.id}" data-resolution-status="proposed"' in html
    assert "Withdraw" in html and "Impose now" in html
    _post(client, page, f"{page}/resolutions/{resolution.id}/withdraw")
    db.session.expire_all()
    assert db.session.get(Resolution, resolution.id).status == "withdrawn"


@pytest.mark.parametrize(
    "query",
    [
        "kind=split&note=Fair",  # no percentage
        "kind=split&customer_share_percent=100&note=Fair",
        "kind=partial_refund&refund_amount=12.345&note=Fair",
        "kind=partial_refund&refund_amount=500.00&note=Fair",  # more than the price
        "kind=release&note=",
    ],
)
def test_a_proposal_the_api_would_refuse_is_refused_in_the_preview(
    app, client, customer, console_cm, query
):
    _job, _member, ticket_id = dispute_for(app, client, customer, console_cm.user_id)
    assert client.get(f"{PAGE}/{ticket_id}/resolutions/preview?{query}").status_code == 422


def test_impose_asks_for_confirmation_first(app, client, customer, console_cm):
    _job, _member, ticket_id = dispute_for(app, client, customer, console_cm.user_id)
    page = f"{PAGE}/{ticket_id}"
    preview = _page(client, f"{page}/resolutions/preview?kind=release&note=Good+work")
    client.post(
        f"{page}/resolutions",
        data={"csrf_token": csrf_of(preview), "kind": "release", "note": "Good work"},
    )
    resolution = db.session.scalar(select(Resolution).where(Resolution.ticket_id == ticket_id))
    confirm_page = f"{page}/resolutions/{resolution.id}/impose"
    assert "I impose this resolution now" in _page(client, confirm_page)
    _post(client, confirm_page, confirm_page, expect=422)
    db.session.expire_all()
    assert db.session.get(Resolution, resolution.id).status == "proposed"
    _post(client, confirm_page, confirm_page, confirm="yes")
    db.session.expire_all()
    assert db.session.get(Resolution, resolution.id).status == "applied"
    assert _ticket(ticket_id).status == "resolved"
    assert 'data-held="no"' in _page(client, page)


def test_a_ticket_without_a_chargeback_has_no_evidence_page(app, client, customer, console_cm):
    _job, _member, ticket_id = dispute_for(app, client, customer, console_cm.user_id)
    assert client.get(f"{PAGE}/{ticket_id}/chargeback-evidence").status_code == 404
    assert client.get(f"{PAGE}/999999").status_code == 404
