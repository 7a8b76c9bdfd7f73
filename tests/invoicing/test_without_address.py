"""A customer who never gave a billing address still gets their invoice: it names them at the
address where the job was done (a consumer's invoice needs one), and nothing prints "None"."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from crowd.core.background import OutboxMessage
from crowd.extensions import db
from invoicing.models import Document
from jobs.models import Job
from tests.jobs.conftest import drain_background
from tests.payouts.job_money_helpers import confirmed_job


def test_an_invoice_without_a_billing_address_names_the_jobs_address(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    drain_background(app)

    tasks = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == "invoicing.issue")
    ).all()
    assert tasks and {task.status for task in tasks} == {"done"}, [t.last_error for t in tasks]
    invoice = db.session.scalars(
        select(Document).where(Document.job_id == job_id, Document.kind == "invoice")
    ).one()
    job = db.session.get(Job, job_id)
    recipient = invoice.data["recipient"]
    assert (recipient["street"], recipient["postcode"], recipient["city"]) == (
        job.street,
        job.postcode,
        job.city,
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(invoice.pdf)).pages)
    assert job.street in text and "None" not in text
