"""Two messages racing with the same upload: one carries it, the other is a 422 and is not
written."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from support.models import TicketMessageFile
from tests.concurrency import run_concurrently
from tests.support.test_ticket_attachments import _photo
from tests.support.ticket_helpers import API, job_of, messages, opened

pytestmark = pytest.mark.committing


def test_an_upload_raced_onto_two_messages_lands_on_one(client, app, customer, member):
    ticket = opened(client, customer, job_id=job_of(customer, member))
    photo = _photo(client, customer)

    def post(client, i):
        response = client.post(
            f"{API}/{ticket['id']}/messages",
            json={"body": f"Try {i}", "attachment_file_ids": [photo]},
            headers=customer.headers,
        )
        return response.status_code

    assert sorted(run_concurrently(app, 2, post)) == [201, 422]
    assert [link.file_id for link in db.session.scalars(select(TicketMessageFile))] == [photo]
    assert len(messages(ticket["id"])) == 2  # the opening and the one that carried it
