"""customers.billing_profile: the party a customer's invoices name — the profile given, else
the default address — read for many customers at once."""

from crowd.extensions import db
from customers import billing_profile
from customers.models import Customer, CustomerAddress
from tests.factories import make_actor
from tests.sql_recorder import sql_statements

ME = "/api/v1/me/billing-profile"
VIENNA = {"street": "Ring 1", "postcode": "1010", "city": "Wien", "country": "AT"}


def _address(customer_id: int, **fields) -> None:
    db.session.add(
        CustomerAddress(
            customer_id=customer_id,
            label="Home",
            lat=48.2,
            lon=16.37,
            is_default=fields.pop("is_default", True),
            **{**VIENNA, **fields},
        )
    )
    db.session.commit()


def test_without_a_profile_the_default_address_is_used(client):
    person = make_actor("customer", display_name="Erika Muster")
    _address(person.profile_id, street="Nebenweg 2", is_default=False)
    _address(person.profile_id)
    nothing = make_actor("customer")
    with sql_statements() as queries:
        parties = billing_profile.billing_parties([person.profile_id, nothing.profile_id])
    assert (
        len([q for q in queries if q.startswith("SELECT")]) == 3
    )  # profiles, default addresses, customers with users
    erika = parties[person.profile_id]
    assert (erika["legal_name"], erika["street"], erika["country"]) == (
        "Erika Muster",
        "Ring 1",
        "AT",
    )
    assert (erika["complete"], erika["saved"], erika["is_business"]) == (True, False, False)
    assert (erika["vat_id"], erika["buyer_reference"], erika["email"]) == (
        None,
        None,
        person.email,
    )
    empty = parties[nothing.profile_id]
    assert (empty["complete"], empty["street"]) == (False, None)


def test_a_profile_beats_the_default_address_and_follows_the_company_name(client):
    firm = make_actor("customer", kind="business", company_name="Muster GmbH")
    _address(firm.profile_id, street="Lagerstr. 9")
    body = {**VIENNA, "vat_id": "ATU57194903", "buyer_reference": "991-01234-56"}
    assert client.put(ME, json=body, headers=firm.headers).status_code == 200
    party = billing_profile.billing_party(firm.profile_id)
    assert (party["street"], party["legal_name"], party["vat_id"]) == (
        "Ring 1",
        "Muster GmbH",
        "ATU57194903",
    )
    customer = db.session.get(Customer, firm.profile_id)
    customer.company_name = "Muster & Co GmbH"
    db.session.commit()
    assert billing_profile.billing_party(firm.profile_id)["legal_name"] == "Muster & Co GmbH"
    # A VAT ID is a business's: after a change to a person it is not used (no reverse charge).
    customer.kind = "person"
    db.session.commit()
    party = billing_profile.billing_party(firm.profile_id)
    assert (party["vat_id"], party["is_business"]) == (None, False)
