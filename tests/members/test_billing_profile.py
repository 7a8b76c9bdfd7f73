"""members.billing_profile: the rules of a member's billing profile, and the party invoicing
reads for many members at once."""

import pytest
from sqlalchemy.exc import IntegrityError

from crowd.core.errors import Unprocessable
from crowd.extensions import db
from members import billing_profile
from members.models import Member, MemberBillingProfile
from tests.factories import make_actor
from tests.sql_recorder import sql_statements

ADDRESS = {"street": "Hauptplatz 1", "postcode": "8010", "city": "Graz", "country": "AT"}


def test_put_checks_and_normalises_then_is_complete(app, member):
    assert billing_profile.is_complete(member.profile_id) is False
    with app.test_request_context():
        billing_profile.put(
            member.profile_id, legal_name=" Ada Huber ", tax_number="59 119 9013", **ADDRESS
        )
    db.session.commit()
    stored = db.session.get(MemberBillingProfile, member.profile_id)
    assert (stored.legal_name, stored.tax_number, stored.small_business) == (
        "Ada Huber",
        "59-119/9013",
        False,
    )
    assert billing_profile.is_complete(member.profile_id) is True


def test_a_vat_payer_without_a_number_is_refused_and_nothing_stored(app, member):
    with app.test_request_context(), pytest.raises(Unprocessable) as caught:
        billing_profile.put(member.profile_id, legal_name="Ada Huber", **ADDRESS)
    assert list(caught.value.errors["json"]) == ["vat_id"]
    assert db.session.get(MemberBillingProfile, member.profile_id) is None


def test_the_database_refuses_a_vat_payer_without_a_number_too(member):
    db.session.add(
        MemberBillingProfile(member_id=member.profile_id, legal_name="Ada Huber", **ADDRESS)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_billing_parties_fall_back_to_the_member_profile_marked_incomplete(app):
    given = make_actor("member", display_name="Ada Huber")
    bare = make_actor("member", display_name="Bob Bauer")
    member = db.session.get(Member, bare.profile_id)
    member.business_name, member.postcode, member.city, member.country = (
        "Bauer Montage",
        "10117",
        "Berlin",
        "DE",
    )
    with app.test_request_context():
        billing_profile.put(
            given.profile_id, legal_name="Ada Huber", small_business=True, **ADDRESS
        )
    db.session.commit()
    with sql_statements() as queries:
        parties = billing_profile.billing_parties([given.profile_id, bare.profile_id, 999999])
    assert (
        len([q for q in queries if q.startswith("SELECT")]) == 2
    )  # profiles, then members with their users: however many
    assert set(parties) == {given.profile_id, bare.profile_id}
    ada = parties[given.profile_id]
    assert (ada["complete"], ada["small_business"], ada["country"]) == (True, True, "AT")
    assert ada["email"] == given.email and ada["language"] == "en"
    bob = parties[bare.profile_id]
    assert (bob["complete"], bob["saved"], bob["legal_name"], bob["street"]) == (
        False,
        False,
        "Bauer Montage",
        None,
    )
    assert (bob["postcode"], bob["city"], bob["country"]) == ("10117", "Berlin", "DE")
    assert billing_profile.billing_party(bare.profile_id) == bob
