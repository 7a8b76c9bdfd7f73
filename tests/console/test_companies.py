"""Companies in the console (issue 26, item 6, the CMs' part) through the Flask test client:
the list by status and name, a company's page with its checks, members and invitations, the
checks' decision and activation through the forms (CSRF, audited, refused with the missing
checks), and nobody but staff getting in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.core.audit import AuditEntry
from crowd.extensions import db
from organisations.models import Organisation
from tests.console.helpers import csrf_of, make_staff, post_form, sign_in
from tests.factories import PASSWORD, make_actor
from tests.files_helpers import pdf, upload
from tests.jobs.conftest import active_member
from tests.organisations.helpers import API, OWN, company_with, invite, register

BASE = "/console/people/companies"


@pytest.fixture
def cm(client):
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    return staff


def _html(response) -> str:
    return response.get_data(as_text=True)


def _status(organisation_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Organisation, organisation_id).status


def test_the_list_filters_by_status_and_name(client, cm):
    pending = register(client, make_actor("member"), legal_name="Kälte Krause GmbH")["id"]
    other = register(client, make_actor("member"), legal_name="Sanitär Schulz KG")["id"]
    db.session.get(Organisation, other).status = "suspended"
    db.session.commit()
    everything = _html(client.get(f"{BASE}/"))
    assert f'data-company="{pending}"' in everything and f'data-company="{other}"' in everything
    by_status = _html(client.get(f"{BASE}/", query_string={"status": "suspended"}))
    assert f'data-company="{pending}"' not in by_status and f'data-company="{other}"' in by_status
    by_name = _html(client.get(f"{BASE}/", query_string={"q": "krause"}))
    assert f'data-company="{pending}"' in by_name and f'data-company="{other}"' not in by_name
    assert client.get(f"{BASE}/", query_string={"status": "bogus"}).status_code == 422
    # The people page and the nav lead here.
    assert f'href="{BASE}/"' in _html(client.get("/console/people/"))


def test_the_company_page_shows_checks_members_and_invitations(client, app, cm):
    api_cm = make_actor("community_manager")
    owner, technician = active_member(display_name="Olga Owner"), active_member()
    organisation_id = company_with(client, app, api_cm, owner, technician=technician)
    assert invite(client, owner, "new-tech@example.test").status_code == 201
    html = _html(client.get(f"{BASE}/{organisation_id}"))
    assert "Elektro Huber GmbH" in html and "HRB 123456" in html
    for member in (owner, technician):
        assert f'data-member="{member.profile_id}"' in html
        assert f'href="/console/people/members/{member.profile_id}"' in html
    assert "new-tech@example.test" in html
    assert f'href="{BASE}/{organisation_id}/insurance-certificate"' in html
    assert 'id="suspend"' in html and 'id="activate"' not in html
    assert client.get(f"{BASE}/999999").status_code == 404


def test_activate_through_the_form_after_the_checks_and_audited(client, app, cm):
    owner = make_actor("member")
    organisation_id = register(client, owner)["id"]
    page = f"{BASE}/{organisation_id}"
    html = _html(client.get(page))
    assert 'id="activate"' in html and 'id="check-insurance"' in html
    # Refused while the checks are missing: the page again with what is missing.
    refused = post_form(client, page, f"{page}/activate")
    assert refused.status_code == 409
    assert 'id="status-error"' in _html(refused)
    assert _status(organisation_id) == "pending"
    # Nothing to verify yet, then the owner's certificate (a PDF) arrives.
    nothing = post_form(client, page, f"{page}/checks/decision", decision="verified")
    assert nothing.status_code == 409 and 'id="checks-error"' in _html(nothing)
    file_id = upload(client, owner, pdf(), "application/pdf", "insurance_certificate").json["id"]
    body = {"file_id": file_id}
    put = client.put(f"{OWN}/insurance-certificate", json=body, headers=owner.headers)
    assert put.status_code == 200
    certificate = client.get(f"{page}/insurance-certificate")
    assert certificate.status_code == 303 and "/files/local/" in certificate.headers["Location"]
    decided = post_form(
        client, page, f"{page}/checks/decision", decision="verified", note="HRB and policy seen"
    )
    assert decided.status_code == 303
    assert "HRB and policy seen" in _html(client.get(page))
    assert post_form(client, page, f"{page}/activate").status_code == 303
    assert _status(organisation_id) == "active"
    assert post_form(client, page, f"{page}/suspend").status_code == 303
    assert _status(organisation_id) == "suspended"
    db.session.expire_all()
    audited = db.session.scalars(
        select(AuditEntry.endpoint).where(AuditEntry.actor_user_id == cm.user_id)
    ).all()
    assert "console_companies.decide" in audited and "console_companies.decide_checks" in audited


def test_forms_without_csrf_token_are_refused(client, cm):
    organisation_id = register(client, make_actor("member"))["id"]
    page = f"{BASE}/{organisation_id}"
    assert client.post(f"{page}/suspend").status_code == 400
    forged = client.post(f"{page}/suspend", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert _status(organisation_id) == "pending"


@pytest.mark.parametrize("role", ["member", "customer"])
def test_members_and_customers_get_no_company_pages(client, role):
    organisation_id = register(client, make_actor("member"))["id"]
    actor = make_actor(role)
    html = _html(client.get("/console/sign-in"))
    response = client.post(
        "/console/sign-in",
        data={"csrf_token": csrf_of(html), "email": actor.email, "password": PASSWORD},
    )
    assert response.status_code == 403
    for page in (f"{BASE}/", f"{BASE}/{organisation_id}"):
        refused = client.get(page)
        assert refused.status_code == 303 and "/console/sign-in" in refused.headers["Location"]
    assert client.post(f"{BASE}/{organisation_id}/suspend").status_code in (303, 400)
    assert _status(organisation_id) == "pending"


def test_an_owner_cannot_reach_the_api_decision_either(client):
    owner = make_actor("member")
    organisation_id = register(client, owner)["id"]
    refused = client.post(f"{API}/organisations/{organisation_id}/activate", headers=owner.headers)
    assert refused.status_code == 403
