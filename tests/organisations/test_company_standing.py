"""A vetted provider company's standing counts in ranking: its technicians rank 2.5 points
(half the programme weight) above an otherwise equal private member; a company whose checks
were not verified gives nothing, and a suspended one's technicians are not candidates."""

from __future__ import annotations

from crowd.extensions import db
from organisations.models import Organisation
from tests.jobs.conftest import active_member, post_job_via_api
from tests.organisations.helpers import API, company_with


def _candidates(client, cm, job_id) -> dict[int, dict]:
    url = f"{API}/jobs/{job_id}/candidates?include_offered=true&limit=50"
    response = client.get(url, headers=cm.headers)
    assert response.status_code == 200, response.get_json()
    return {item["member_id"]: item for item in response.get_json()["items"]}


def test_a_vetted_companys_technician_ranks_above_an_equal_private_member(
    app, client, customer, cm
):
    owner, technician, private = active_member(), active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    job_id = post_job_via_api(client, customer).get_json()["id"]

    candidates = _candidates(client, cm, job_id)
    vetted, plain = candidates[technician.profile_id], candidates[private.profile_id]
    assert (vetted["breakdown"]["programme"], plain["breakdown"]["programme"]) == (2.5, 0.0)
    assert round(vetted["score"] - plain["score"], 3) == 2.5

    # Checks no longer verified (a new certificate awaits its decision): no standing.
    company = db.session.get(Organisation, organisation_id)
    company.checks_decision, company.checks_decided_at = None, None
    db.session.flush()
    candidates = _candidates(client, cm, job_id)
    assert candidates[technician.profile_id]["breakdown"]["programme"] == 0.0

    # Suspended: not a candidate at all.
    company.status = "suspended"
    db.session.flush()
    assert technician.profile_id not in _candidates(client, cm, job_id)
