"""Issue 24's story through the API: money moves, the documents follow — each exactly once,
numbered without gaps, immutable, corrected only by a document that refers to the original."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from accounts.models import User
from crowd.core.background import TASKS
from crowd.core.db import commit
from crowd.extensions import db
from invoicing.models import Document
from members.models import Member
from tests.invoicing.helpers import (
    agree_to_self_billing,
    documents_of,
    set_customer_profile,
    set_member_profile,
    use_model,
)
from tests.jobs.conftest import active_member, drain_background
from tests.payouts.conftest import ledger_sound  # noqa: F401
from tests.payouts.job_money_helpers import confirmed_job, refund
from tests.support.dispute_helpers import (
    COMMISSION,
    EARNING,
    PRICE,
    disputed_job,
    proposed,
    staff_act,
)

pytestmark = pytest.mark.usefixtures("ledger_sound")


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _kleinunternehmer(client) -> object:
    member = active_member()
    set_member_profile(client, member, small_business=True, vat_id=None, tax_number="2181508150")
    agree_to_self_billing(client, member)
    return member


# --- the customer's invoice ---------------------------------------------------------------


def test_a_german_consumers_job_gets_an_invoice_with_19_percent_vat(
    app, client, customer, cm, admin
):
    set_customer_profile(client, customer, country="DE", vat_id=None)
    job_id, _member = confirmed_job(app, client, customer, cm)
    drain_background(app)

    listed = client.get("/api/v1/documents", headers=customer.headers)
    assert listed.status_code == 200, listed.get_json()
    (invoice,) = listed.get_json()["items"]
    assert invoice["kind"] == "invoice" and invoice["job_id"] == job_id
    assert invoice["number"].startswith("RE-") and invoice["number"].endswith("-000001")
    # 120.00 gross at 19 %: 100.84 net + 19.16 VAT.
    assert (invoice["net_total"], invoice["vat_total"], invoice["gross_total"]) == (
        10084,
        1916,
        PRICE,
    )
    assert invoice["scheme"] == "standard" and invoice["e_invoice"] is False
    detail = client.get(f"/api/v1/documents/{invoice['id']}", headers=customer.headers).json
    (line,) = detail["data"]["lines"]
    assert (line["vat_rate_bp"], line["net"], line["vat"]) == (1900, 10084, 1916)
    assert detail["data"]["supplier"]["vat_id"]  # the platform's VAT ID is printed

    pdf = client.get(f"/api/v1/documents/{invoice['id']}/pdf", headers=customer.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    words = _pdf_text(pdf.data)
    assert invoice["number"] in words and "19" in words
    # No e-invoice for a consumer.
    no_xml = client.get(f"/api/v1/documents/{invoice['id']}/xml", headers=customer.headers)
    assert no_xml.status_code == 404


def test_documents_are_only_for_their_parties(
    app, client, customer, other_customer, other_member, cm, admin
):
    set_customer_profile(client, customer, country="DE", vat_id=None)
    _job_id, member = confirmed_job(app, client, customer, cm)
    drain_background(app)
    (document,) = documents_of(kind="invoice")
    for outsider in (other_customer, other_member, member):
        assert (
            client.get(f"/api/v1/documents/{document.id}", headers=outsider.headers).status_code
            == 404
        )
        assert (
            client.get(f"/api/v1/documents/{document.id}/pdf", headers=outsider.headers).status_code
            == 404
        )
        assert client.get("/api/v1/documents", headers=outsider.headers).json["items"] == []
    for staff in (cm, admin):
        assert (
            client.get(f"/api/v1/documents/{document.id}", headers=staff.headers).status_code == 200
        )
    assert client.get("/api/v1/documents").status_code == 401


def test_a_swiss_business_customers_job_shows_reverse_charge_with_both_vat_ids(
    app, client, customer, cm
):
    set_customer_profile(
        client,
        customer,
        country="CH",
        vat_id="CHE-116.281.710 MWST",
        legal_name="Zürcher Elektro AG",
        street="Bahnhofstrasse 1",
        postcode="8001",
        city="Zürich",
    )
    confirmed_job(app, client, customer, cm)
    drain_background(app)
    (invoice,) = documents_of(kind="invoice")
    assert invoice.scheme == "reverse_charge"
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (PRICE, 0, PRICE)
    data = invoice.data
    assert data["recipient"]["vat_id"].startswith("CHE")
    assert data["supplier"]["vat_id"].startswith("DE")
    assert "reverse_charge" in data["notes"]
    words = _pdf_text(db.session.scalar(select(Document.pdf).where(Document.id == invoice.id)))
    assert "CHE" in words and data["supplier"]["vat_id"] in words
    assert "Reverse" in words or "Steuerschuldnerschaft" in words


def test_a_german_business_customer_gets_a_valid_e_invoice(app, client, customer, cm):
    from invoicing.render.einvoice import validate_xml

    set_customer_profile(
        client,
        customer,
        country="DE",
        vat_id="DE136695976",
        legal_name="Muster Hausverwaltung GmbH",
        buyer_reference="04011000-12345-34",
    )
    confirmed_job(app, client, customer, cm)
    drain_background(app)
    (invoice,) = documents_of(kind="invoice")
    listed = client.get("/api/v1/documents", headers=customer.headers).json["items"]
    assert listed[0]["e_invoice"] is True
    xml = client.get(f"/api/v1/documents/{invoice.id}/xml", headers=customer.headers)
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    validate_xml(xml.data)  # raises when the XML does not match the EN 16931 schema
    assert b"04011000-12345-34" in xml.data
    pdf = client.get(f"/api/v1/documents/{invoice.id}/pdf", headers=customer.headers).data
    from invoicing.render.einvoice import embedded_xml

    assert embedded_xml(pdf) == xml.data


# --- the member's side ----------------------------------------------------------------------


def test_a_kleinunternehmer_members_credit_note_has_the_exemption_note_and_no_vat(
    app, client, customer, cm
):
    member = _kleinunternehmer(client)
    set_customer_profile(client, customer, country="DE", vat_id=None)
    confirmed_job(app, client, customer, cm, member)
    drain_background(app)
    listed = client.get("/api/v1/documents", headers=member.headers).json["items"]
    (credit,) = [d for d in listed if d["kind"] == "self_billing_credit"]
    assert credit["number"].startswith("GS-")
    assert credit["scheme"] == "small_business"
    assert (credit["net_total"], credit["vat_total"], credit["gross_total"]) == (
        EARNING,
        0,
        EARNING,
    )
    detail = client.get(f"/api/v1/documents/{credit['id']}", headers=member.headers).json
    assert "small_business_de" in detail["data"]["notes"]
    assert "self_billing" in detail["data"]["notes"]
    pdf = client.get(f"/api/v1/documents/{credit['id']}/pdf", headers=member.headers).data
    words = _pdf_text(pdf)
    assert "Gutschrift" in words and "19 UStG" in words
    # The customer's invoice is the platform's (model "platform"): the member does not see it.
    assert all(d["kind"] != "invoice" for d in listed)


def test_a_member_without_the_self_billing_agreement_gets_no_credit_note(app, client, customer, cm):
    member = active_member()
    set_member_profile(client, member, small_business=False, vat_id="DE136695976")
    set_customer_profile(client, customer, country="DE", vat_id=None)
    confirmed_job(app, client, customer, cm, member)
    drain_background(app)
    assert [d.kind for d in documents_of()] == ["invoice"]


def test_a_vat_registered_member_gets_a_credit_note_with_vat(app, client, customer, cm):
    member = active_member()
    set_member_profile(client, member, small_business=False, vat_id="DE136695976")
    agree_to_self_billing(client, member)
    set_customer_profile(client, customer, country="DE", vat_id=None)
    confirmed_job(app, client, customer, cm, member)
    drain_background(app)
    (credit,) = documents_of(kind="self_billing_credit")
    # 96.00 gross at 19 %: 80.67 net + 15.33 VAT.
    assert (credit.scheme, credit.net_total, credit.vat_total) == ("standard", 8067, 1533)


# --- corrections ----------------------------------------------------------------------------


def _refund_by_resolution(app, client, customer, cm, member, amount: int) -> int:
    job_id, _member, ticket = disputed_job(app, client, customer, cm, confirmed=True, member=member)
    resolution = proposed(client, cm, ticket["id"], kind="partial_refund", refund_amount=amount)
    applied = staff_act(client, cm, ticket["id"], resolution["id"], "impose")
    assert applied.status_code == 200, applied.get_json()
    drain_background(app)
    return job_id


def test_a_partial_refund_after_a_dispute_yields_exactly_one_correction_each(
    app, client, customer, cm
):
    member = _kleinunternehmer(client)
    set_customer_profile(client, customer, country="DE", vat_id=None)
    job_id = _refund_by_resolution(app, client, customer, cm, member, 3000)

    invoice = documents_of(kind="invoice")[0]
    credit = documents_of(kind="self_billing_credit")[0]
    corrections = documents_of(kind="correction")
    assert len(corrections) == 2
    by_original = {c.corrects_id: c for c in corrections}
    customer_fix, member_fix = by_original[invoice.id], by_original[credit.id]
    # The customer gets 30.00 back: 25.21 net + 4.79 VAT at the invoice's 19 %.
    assert (customer_fix.gross_total, customer_fix.net_total, customer_fix.vat_total) == (
        -3000,
        -2521,
        -479,
    )
    assert customer_fix.data["corrects_number"] == invoice.number
    assert customer_fix.number.startswith("KR-")
    # The member's part of it (80 %), without VAT as their credit note was.
    assert (member_fix.gross_total, member_fix.vat_total) == (-2400, 0)
    assert member_fix.data["corrects_number"] == credit.number
    assert member_fix.recipient_type == "member" and customer_fix.recipient_type == "customer"

    # The task again (a retry, a replayed event): nothing new.
    refund_id = db.session.scalar(
        text("SELECT id FROM job_refunds WHERE job_id = :job"), {"job": job_id}
    )
    with app.app_context():
        TASKS["invoicing.issue"].func(source="refund", source_id=refund_id)
        commit()
    assert len(documents_of(kind="correction")) == 2

    seen = client.get("/api/v1/documents", headers=customer.headers).json["items"]
    assert sorted(d["kind"] for d in seen) == ["correction", "invoice"]
    detail = client.get(f"/api/v1/documents/{invoice.id}", headers=customer.headers).json
    assert [c["number"] for c in detail["corrections"]] == [customer_fix.number]


def test_a_staff_refund_corrects_the_invoice_once(app, client, customer, cm):
    set_customer_profile(client, customer, country="DE", vat_id=None)
    job_id, _member = confirmed_job(app, client, customer, cm)
    drain_background(app)
    response = refund(client, cm, job_id, 1200, **{"Idempotency-Key": "refund-once"})
    assert response.status_code in (200, 201, 202), response.get_json()
    again = refund(client, cm, job_id, 1200, **{"Idempotency-Key": "refund-once"})
    assert again.status_code == response.status_code
    drain_background(app)
    (correction,) = documents_of(kind="correction")
    assert correction.gross_total == -1200


# --- the agent model and fees -----------------------------------------------------------------


def test_under_the_agent_model_the_invoice_is_in_the_members_name_and_commission_invoiced(
    app, client, customer, cm, admin
):
    use_model(client, admin, "agent")
    member = _kleinunternehmer(client)
    set_customer_profile(client, customer, country="DE", vat_id=None)
    confirmed_job(app, client, customer, cm, member)
    drain_background(app)
    (invoice,) = documents_of(kind="invoice")
    assert invoice.on_behalf_of_member and invoice.number.startswith(f"RE-M{member.profile_id}-")
    # The member is a Kleinunternehmer: the customer's invoice carries no VAT.
    assert (invoice.scheme, invoice.vat_total) == ("small_business", 0)
    assert "issued_on_behalf" in invoice.data["notes"]
    (commission,) = documents_of(kind="fee_invoice")
    # The platform's commission to a German member: 24.00 gross at 19 %.
    assert (commission.gross_total, commission.vat_total) == (COMMISSION, 383)
    seen = {
        d["kind"] for d in client.get("/api/v1/documents", headers=member.headers).json["items"]
    }
    assert seen == {"invoice", "fee_invoice"}
    assert documents_of(kind="self_billing_credit") == []


# --- what the table guarantees ------------------------------------------------------------------


def test_an_issued_document_cannot_be_changed_or_deleted(app, client, customer, cm):
    set_customer_profile(client, customer, country="DE", vat_id=None)
    confirmed_job(app, client, customer, cm)
    drain_background(app)
    (invoice,) = documents_of(kind="invoice")
    for statement in (
        "UPDATE documents SET gross_total = 1, net_total = 1, vat_total = 0 WHERE id = :id",
        "DELETE FROM documents WHERE id = :id",
    ):
        with pytest.raises(DatabaseError, match="immutable"), db.session.begin_nested():
            db.session.execute(text(statement), {"id": invoice.id})
    db.session.rollback()
    assert documents_of(kind="invoice")[0].gross_total == PRICE


def test_export_for_the_accountant(app, client, customer, cm, admin):
    set_customer_profile(client, customer, country="DE", vat_id=None)
    confirmed_job(app, client, customer, cm)
    drain_background(app)
    (invoice,) = documents_of(kind="invoice")
    day = invoice.issue_date.isoformat()
    plain = client.get(f"/api/v1/documents/export?from={day}&to={day}", headers=admin.headers)
    assert plain.status_code == 200 and plain.mimetype == "text/csv"
    rows = plain.data.decode().splitlines()
    assert rows[0].startswith("number,kind,issue_date")
    assert rows[1].startswith(f"{invoice.number},invoice,{day}")
    assert rows[1].endswith("EUR,100.84,19.16,120.00")
    datev = client.get(
        f"/api/v1/documents/export?from={day}&to={day}&format=datev", headers=admin.headers
    )
    assert datev.status_code == 200
    booking = datev.data.decode().splitlines()[1].split(";")
    assert booking[:5] == ["120,00", "S", "EUR", str(10000 + customer.profile_id), "8400"]
    # Staff other than admins, and parties, may not export; a period is required.
    assert (
        client.get(f"/api/v1/documents/export?from={day}&to={day}", headers=cm.headers).status_code
        == 403
    )
    missing = client.get("/api/v1/documents/export", headers=admin.headers)
    assert missing.status_code == 422
    assert missing.mimetype == "application/problem+json"
    backwards = client.get(
        "/api/v1/documents/export?from=2026-02-01&to=2026-01-01", headers=admin.headers
    )
    assert backwards.status_code == 422 and "to" in str(backwards.get_json())


def test_filters_and_bad_input(app, client, customer, cm, admin):
    set_customer_profile(client, customer, country="DE", vat_id=None)
    job_id, _member = confirmed_job(app, client, customer, cm)
    drain_background(app)
    by_job = client.get(f"/api/v1/documents?job_id={job_id}", headers=admin.headers).json
    assert [d["job_id"] for d in by_job["items"]] == [job_id]
    assert client.get("/api/v1/documents?job_id=999999", headers=admin.headers).json["items"] == []
    for bad in ("kind=receipt", "from=yesterday", "job_id=0", "currency=USD"):
        response = client.get(f"/api/v1/documents?{bad}", headers=admin.headers)
        assert response.status_code == 422, bad
        assert bad.split("=")[0] in str(response.get_json()), bad
    assert client.get("/api/v1/documents/999999", headers=admin.headers).status_code == 404


def test_member_language_decides_the_documents_language(app, client, customer, cm):
    member = _kleinunternehmer(client)
    user_id = db.session.get(Member, member.profile_id).user_id
    db.session.get(User, user_id).locale = "en"
    commit()
    set_customer_profile(client, customer, country="DE", vat_id=None)
    confirmed_job(app, client, customer, cm, member)
    drain_background(app)
    (credit,) = documents_of(kind="self_billing_credit")
    (invoice,) = documents_of(kind="invoice")
    assert credit.language == "en" and invoice.language == "de"
    assert "Self-billing" in _pdf_text(
        db.session.scalar(select(Document.pdf).where(Document.id == credit.id))
    )


# --- monthly flat fees ---------------------------------------------------------------------------


def test_a_billed_monthly_fee_gets_the_platforms_invoice_once(app, client):
    from tests.payouts.test_billing import bill, flat_plan, long_ago, put_on, this_month

    german = active_member()
    set_member_profile(client, german, small_business=True, vat_id=None, tax_number="2181508150")
    austrian = active_member()
    set_member_profile(
        client,
        austrian,
        small_business=False,
        vat_id="ATU13585627",
        country="AT",
        street="Hauptstraße 7",
        postcode="1010",
        city="Wien",
    )
    plan = flat_plan()
    for member in (german, austrian):
        put_on(member.profile_id, plan, long_ago())
    bill()
    drain_background(app)
    bill()  # a second run bills nobody again, and so invoices nobody again
    drain_background(app)
    issued = documents_of(kind="fee_invoice")
    invoices = {d.member_id: d for d in issued}
    assert len(issued) == 2 and set(invoices) == {german.profile_id, austrian.profile_id}
    # The platform's fee to a German member: 29.00 gross at the platform's 19 %.
    mine = invoices[german.profile_id]
    assert (mine.scheme, mine.net_total, mine.vat_total, mine.gross_total) == (
        "standard",
        2437,
        463,
        2900,
    )
    assert mine.number.startswith("PR-") and this_month() in mine.data["lines"][0]["description"]
    assert mine.data["service_period"][0].endswith("-01")
    # A VAT-registered member in Austria owes the VAT themselves: reverse charge, both IDs.
    theirs = invoices[austrian.profile_id]
    assert (theirs.scheme, theirs.vat_total, theirs.gross_total) == ("reverse_charge", 0, 2900)
    assert theirs.data["recipient"]["vat_id"] == "ATU13585627"
    seen = client.get("/api/v1/documents", headers=german.headers).json["items"]
    assert [d["number"] for d in seen] == [mine.number]
