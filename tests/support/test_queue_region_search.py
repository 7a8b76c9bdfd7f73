"""The queue's region filter (the job's country, optionally a postcode prefix) and its search
(subject, number, and for staff the parties' names and emails), as the console uses them."""

from __future__ import annotations

import pytest

from crowd.core.auth import Principal
from crowd.core.errors import Unprocessable
from support.tickets.queue import list_tickets
from tests.factories import make_actor
from tests.jobs.conftest import force_job_state
from tests.support.ticket_helpers import job_of, opened


def _staff(cm) -> Principal:
    return Principal(user_id=cm.user_id, role=cm.role, token_id=0, via="session")


def _ids(actor, **filters) -> set[int]:
    return {item["id"] for item in list_tickets(actor=actor, **filters)["items"]}


@pytest.fixture
def placed(client, customer, member):
    """Tickets about jobs in Munich (DE 80331), Berlin (DE 10115) and Zürich (CH 8001), and one
    about no job."""
    ids = {}
    for name, country, postcode in (
        ("munich", "DE", "80331"),
        ("berlin", "DE", "10115"),
        ("zurich", "CH", "8001"),
    ):
        job_id = job_of(customer, member)
        force_job_state(job_id, country=country, postcode=postcode)
        ids[name] = opened(client, customer, job_id=job_id, subject=f"Trouble in {name}")["id"]
    ids["account"] = opened(client, customer, subject="My invoice address")["id"]
    return ids


def test_region_is_a_country_or_a_country_and_postcode_prefix(cm, placed):
    staff = _staff(cm)
    assert _ids(staff, region="DE") == {placed["munich"], placed["berlin"]}
    assert _ids(staff, region="de-80") == {placed["munich"]}
    assert _ids(staff, region="CH") == {placed["zurich"]}
    assert _ids(staff, region="AT") == set()


@pytest.mark.parametrize("region", ["D", "DEU", "12-80", "%"])
def test_a_region_that_is_no_country_is_a_422(cm, placed, region):
    with pytest.raises(Unprocessable) as refused:
        list_tickets(actor=_staff(cm), region=region)
    assert "region" in refused.value.errors["query"]


def test_search_finds_subject_number_and_parties(cm, customer, member, placed):
    staff = _staff(cm)
    assert _ids(staff, search="BERLIN") == {placed["berlin"]}
    assert _ids(staff, search=f"#{placed['zurich']}") >= {placed["zurich"]}
    everything = {placed["munich"], placed["berlin"], placed["zurich"], placed["account"]}
    assert _ids(staff, search=customer.email.upper()) == everything
    # The member is a party of the three job tickets only.
    assert _ids(staff, search=member.email) == everything - {placed["account"]}
    assert _ids(staff, search="100%_sure") == set()


def test_a_party_searching_finds_only_their_own_tickets_by_subject(client, customer, placed):
    other = make_actor("customer")
    opened(client, other, subject="Trouble in munich too")
    mine = Principal(user_id=customer.user_id, role="customer", token_id=0, via="session")
    assert _ids(mine, search="munich") == {placed["munich"]}
    # Parties do not search by people: another customer's email finds nothing of theirs.
    assert _ids(mine, search=other.email) == set()


def test_the_api_queue_takes_region_and_search(client, cm, placed):
    def ids(query: str, status: int = 200) -> set[int]:
        response = client.get(f"/api/v1/tickets?{query}", headers=cm.headers)
        assert response.status_code == status, response.get_json()
        return {item["id"] for item in response.get_json().get("items", [])}

    assert ids("region=DE-80") == {placed["munich"]}
    assert ids("region=DE&search=berlin") == {placed["berlin"]}
    assert ids("region=Germany", 422) == set()
