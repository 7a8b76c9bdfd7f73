"""A member's provider company through an erasure and in their export: the company stays with
its other technicians, the erased member's membership ends, a company left empty closes
without its name, invitations to their address lose it; the last owner with technicians
waits until ownership passed."""

from __future__ import annotations

from sqlalchemy import select

from crowd.extensions import db
from organisations.models import Organisation, OrganisationInvitation, OrganisationMembership
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.organisations.helpers import API, company_with, invite, register
from tests.privacy.test_erasure import erase_me, scan
from tests.privacy.test_exports import _archive, _asked, _csv


def _membership(member_id: int) -> OrganisationMembership:
    db.session.expire_all()
    return db.session.scalars(
        select(OrganisationMembership)
        .where(OrganisationMembership.member_id == member_id)
        .order_by(OrganisationMembership.id.desc())
    ).first()


def test_the_last_owner_with_technicians_waits_until_ownership_passed(app, client, cm):
    owner, technician = make_actor("member"), make_actor("member")
    organisation_id = company_with(client, app, cm, owner, technician=technician)

    refused = erase_me(client, owner)
    assert refused.status_code == 409, refused.get_json()
    assert {"kind": "organisation", "id": organisation_id} in refused.get_json()["blocking"]
    assert _membership(owner.profile_id).status == "active"

    promoted = client.patch(
        f"{API}/me/organisation/members/{technician.profile_id}",
        json={"role": "owner"},
        headers=owner.headers,
    )
    assert promoted.status_code == 200, promoted.get_json()
    erased = erase_me(client, owner)
    assert erased.status_code == 200, erased.get_json()
    assert erased.get_json()["counts"]["organisation_memberships"] == 1

    left = _membership(owner.profile_id)
    assert (left.status, left.left_at is not None) == ("left", True)
    company = db.session.get(Organisation, organisation_id)
    assert company.status == "active" and company.legal_name != "[erased]"
    assert _membership(technician.profile_id).status == "active"


def test_a_company_of_one_closes_with_its_owner_and_loses_its_name(app, client):
    owner = make_actor("member")
    organisation_id = register(client, owner, legal_name="Elektro Quastenflosser e.K.")["id"]

    erased = erase_me(client, owner)
    assert erased.status_code == 200, erased.get_json()
    assert erased.get_json()["counts"]["organisations_closed"] == 1
    company = db.session.get(Organisation, organisation_id)
    assert (company.status, company.legal_name, company.trade_name) == ("closed", "[erased]", None)
    assert _membership(owner.profile_id).status == "left"
    assert scan(["Quastenflosser"]) == []


def test_an_invitation_to_the_erased_address_loses_it(app, client, cm):
    owner, invitee = make_actor("member"), make_actor("member", email="Invitee.Zebra@example.test")
    company_with(client, app, cm, owner)
    assert invite(client, owner, "invitee.zebra@example.test").status_code == 201

    assert erase_me(client, invitee).status_code == 200
    db.session.expire_all()
    invitation = db.session.scalars(select(OrganisationInvitation)).one()
    assert invitation.email.endswith("@invalid") and invitation.revoked_at is not None
    drain_background(app)
    assert scan(["invitee.zebra"]) == []


def test_the_export_lists_the_company_and_the_invitations(app, client, cm):
    owner, technician = make_actor("member"), make_actor("member")
    company_with(client, app, cm, owner, technician=technician)
    assert invite(client, owner, "later@example.test", "dispatcher").status_code == 201

    export = _asked(client, technician)
    drain_background(app)
    archive = _archive(client, technician, export["id"])
    companies = _csv(archive, "companies.csv")
    assert [(row["role"], row["status"]) for row in companies] == [("technician", "active")]
    invitations = _csv(archive, "company_invitations.csv")
    assert [row["role"] for row in invitations] == ["technician"]
    assert "token_hash" not in invitations[0]


def test_a_company_of_one_with_earnings_waits_for_its_payout(app, client, customer, cm):
    from tests.jobs.conftest import active_member
    from tests.payouts.job_money_helpers import confirmed_job

    owner = active_member()
    organisation_id = company_with(client, app, cm, owner)
    confirmed_job(app, client, customer, cm, owner)
    drain_background(app)

    refused = erase_me(client, owner)
    assert refused.status_code == 409, refused.get_json()
    assert {"kind": "organisation", "id": organisation_id} in refused.get_json()["blocking"]
    # The company's earnings are its own: the owner's payable holds nothing.
    assert not any(b["kind"] == "balance" for b in refused.get_json()["blocking"])
    assert db.session.get(Organisation, organisation_id).status == "active"
