"""Concurrent changes to companies: the company's row lock, then the member's, keep one active
membership per member and at least one owner per company."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from organisations.models import OrganisationMembership
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.organisations.helpers import OWN, accept, company_with, invite, token_from_email

pytestmark = pytest.mark.committing


def _count(app, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).where(*where))


def test_two_invitations_accepted_at_once_make_one_membership(app, client, cm):
    first, second, tech = make_actor("member"), make_actor("member"), make_actor("member")
    company_with(client, app, cm, first)
    company_with(client, app, cm, second)
    tokens = []
    for owner in (first, second):
        assert invite(client, owner, tech.email).status_code == 201
        tokens.append(token_from_email(app, tech.email))

    statuses = run_concurrently(app, 2, lambda c, i: accept(c, tech, tokens[i]).status_code)
    assert sorted(statuses) == [200, 409]
    active = (
        OrganisationMembership.member_id == tech.profile_id,
        OrganisationMembership.status == "active",
    )
    assert _count(app, *active) == 1


def test_the_last_two_owners_leaving_at_once_leave_one(app, client, cm):
    owner, second = make_actor("member"), make_actor("member")
    organisation_id = company_with(client, app, cm, owner, owner2=second)

    statuses = run_concurrently(
        app, 2, lambda c, i: c.post(f"{OWN}/leave", headers=(owner, second)[i].headers).status_code
    )
    assert sorted(statuses) == [204, 409]
    owners = (
        OrganisationMembership.organisation_id == organisation_id,
        OrganisationMembership.role == "owner",
        OrganisationMembership.status == "active",
    )
    assert _count(app, *owners) == 1


def test_demoting_each_other_at_once_keeps_an_owner(app, client, cm):
    owner, second = make_actor("member"), make_actor("member")
    organisation_id = company_with(client, app, cm, owner, owner2=second)
    pairs = ((owner, second), (second, owner))

    def demote(c, i):
        actor, other = pairs[i]
        return c.patch(
            f"{OWN}/members/{other.profile_id}", json={"role": "technician"}, headers=actor.headers
        ).status_code

    statuses = run_concurrently(app, 2, demote)
    assert sorted(statuses) == [200, 403]  # the second is no owner any more
    owners = (
        OrganisationMembership.organisation_id == organisation_id,
        OrganisationMembership.role == "owner",
        OrganisationMembership.status == "active",
    )
    assert _count(app, *owners) == 1
