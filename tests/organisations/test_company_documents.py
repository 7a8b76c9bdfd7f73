"""The documents of a provider company's jobs are addressed to the company, not to the
technician who did the work: the self-billing credit note (with its owner's agreement) or, in
the agent model, the invoice in the company's name and the commission invoice to it; the
corrections of a refund follow. The company's owners and dispatchers read them, its
technician does not."""

from __future__ import annotations

from crowd.core.background import TASKS
from crowd.core.db import commit
from crowd.extensions import db
from payouts.models import CommissionPlan
from tests.invoicing.helpers import agree_to_self_billing, documents_of, use_model
from tests.jobs.conftest import active_member, drain_background
from tests.organisations.helpers import COMPANY, company_with
from tests.payouts.job_money_helpers import confirmed_job, refund

API = "/api/v1"


def _numbers(client, actor) -> set[str]:
    response = client.get(f"{API}/documents", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return {d["number"] for d in response.get_json()["items"]}


def test_the_companys_credit_note_names_the_company_and_its_managers_read_it(
    app, client, customer, cm
):
    owner, technician, dispatcher = active_member(), active_member(), active_member()
    organisation_id = company_with(
        client, app, cm, owner, technician=technician, dispatcher=dispatcher
    )
    agree_to_self_billing(client, owner)
    job_id, _ = confirmed_job(app, client, customer, cm, technician)
    drain_background(app)

    (credit,) = documents_of(kind="self_billing_credit")
    assert (credit.organisation_id, credit.member_id, credit.job_id) == (
        organisation_id,
        None,
        job_id,
    )
    supplier = credit.data["supplier"]
    assert (supplier["name"], supplier["vat_id"]) == (COMPANY["legal_name"], COMPANY["vat_id"])
    assert credit.series == "GS" and credit.scheme == "standard"

    assert credit.number in _numbers(client, owner)
    assert credit.number in _numbers(client, dispatcher)
    assert credit.number not in _numbers(client, technician)
    response = client.get(f"{API}/documents/{credit.id}", headers=technician.headers)
    assert response.status_code == 404

    # A refund corrects the company's credit note, again addressed to the company.
    assert refund(client, cm, job_id, 3000).status_code == 202
    drain_background(app)
    corrections = [d for d in documents_of(kind="correction") if d.corrects_id == credit.id]
    assert [d.organisation_id for d in corrections] == [organisation_id]
    assert corrections[0].data["supplier"]["name"] == COMPANY["legal_name"]


def test_without_the_owners_agreement_the_company_bills_itself(app, client, customer, cm):
    owner, technician = active_member(), active_member()
    company_with(client, app, cm, owner, technician=technician)
    agree_to_self_billing(client, technician)  # the technician's own agreement does not count
    confirmed_job(app, client, customer, cm, technician)
    drain_background(app)
    assert documents_of(kind="self_billing_credit") == []
    assert len(documents_of(kind="invoice")) == 1


def test_agent_model_invoices_in_the_companys_name_and_bills_it_the_commission(
    app, client, customer, cm, admin
):
    use_model(client, admin, "agent")
    owner, technician = active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    confirmed_job(app, client, customer, cm, technician)
    drain_background(app)

    (invoice,) = documents_of(kind="invoice")
    assert invoice.series == f"RE-O{organisation_id}" and invoice.on_behalf_of_member
    assert invoice.organisation_id == organisation_id and invoice.member_id is None
    assert invoice.data["supplier"]["name"] == COMPANY["legal_name"]
    (commission,) = documents_of(kind="fee_invoice")
    assert commission.organisation_id == organisation_id
    assert commission.data["recipient"]["name"] == COMPANY["legal_name"]
    assert {invoice.number, commission.number} <= _numbers(client, owner)
    assert _numbers(client, technician) == set()


def test_the_datev_export_books_a_companys_documents_on_its_own_account(
    app, client, customer, cm, admin
):
    use_model(client, admin, "agent")
    owner, technician = active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    confirmed_job(app, client, customer, cm, technician)
    drain_background(app)
    (commission,) = documents_of(kind="fee_invoice")
    day = commission.issue_date.isoformat()
    datev = client.get(
        f"{API}/documents/export?from={day}&to={day}&format=datev", headers=admin.headers
    )
    assert datev.status_code == 200
    rows = [line.split(";") for line in datev.get_data(as_text=True).splitlines()]
    booked = [row for row in rows if commission.number in ";".join(row)]
    assert booked and str(90000 + organisation_id) in booked[0]
    assert not any(str(70000 + technician.profile_id) in row for row in booked)


def test_a_companys_monthly_fee_is_invoiced_to_the_company(app, client, cm, admin):
    owner, technician = active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    db.session.add(
        CommissionPlan(
            code="flat49",
            name="Flat 49",
            kind="flat_fee",
            percent_bp=500,
            monthly_fee_amount=4900,
            fee_currency="EUR",
            active=True,
        )
    )
    db.session.commit()
    path = f"{API}/organisations/{organisation_id}/plan"
    assert client.put(path, json={"plan_code": "flat49"}, headers=admin.headers).status_code == 200
    TASKS["payouts.bill_monthly_fees"].func(period=None)
    commit()
    drain_background(app)

    (invoice,) = documents_of(kind="fee_invoice")
    assert (invoice.organisation_id, invoice.member_id, invoice.gross_total) == (
        organisation_id,
        None,
        4900,
    )
    assert invoice.data["recipient"]["name"] == COMPANY["legal_name"]
    assert invoice.number in _numbers(client, owner)
    assert _numbers(client, technician) == set()
