"""GET/PUT /me/billing-profile for members and customers, staff reading anyone's: who documents
are addressed to, checked for form (422 naming the field), and who may see which."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from customers.models import CustomerBillingProfile
from members.models import MemberBillingProfile
from tests.factories import make_actor

ME = "/api/v1/me/billing-profile"
# A VAT-registered member in Berlin.
MEMBER_BODY = {
    "legal_name": "Ada Installateur e.K.",
    "street": "Friedrichstr. 1",
    "postcode": "10117",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE 136 695 976",
}
ADDRESS = {
    "label": "Office",
    "street": "Bahnhofstr. 3",
    "postcode": "8001",
    "city": "Zürich",
    "country": "CH",
    "lat": 47.37,
    "lon": 8.54,
}


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def problem(response, status):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def fields_at_fault(response) -> set[str]:
    return set(problem(response, 422)["errors"]["json"])


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def business():
    return make_actor(
        "customer", display_name="Heidi Muster", kind="business", company_name="Muster AG"
    )


# --- members ---------------------------------------------------------------------------------


def test_a_member_without_a_profile_sees_what_documents_would_use_incomplete(client, member):
    body = ok(client.get(ME, headers=member.headers))
    assert body["party"] == "member"
    assert body["saved"] is False and body["complete"] is False
    assert body["legal_name"].startswith("Member ")
    assert body["street"] is None and body["vat_id"] is None
    assert body["small_business"] is False
    assert body["email"] == member.email
    assert "buyer_reference" not in body


def test_a_member_saves_a_profile_normalised_and_reads_it_back(client, member, cm):
    saved = ok(client.put(ME, json=MEMBER_BODY, headers=member.headers))
    assert saved["saved"] is True and saved["complete"] is True
    assert saved["vat_id"] == "DE136695976"
    assert saved["legal_name"] == "Ada Installateur e.K."
    assert ok(client.get(ME, headers=member.headers)) == saved
    staff_view = ok(
        client.get(f"/api/v1/members/{member.profile_id}/billing-profile", headers=cm.headers)
    )
    assert staff_view == saved
    stored = db.session.get(MemberBillingProfile, member.profile_id)
    assert (stored.vat_id, stored.tax_number, stored.small_business) == ("DE136695976", None, False)


def test_put_replaces_the_whole_profile(client, member):
    ok(client.put(ME, json=MEMBER_BODY, headers=member.headers))
    body = {**MEMBER_BODY, "vat_id": None, "tax_number": "18181508155"}
    replaced = ok(client.put(ME, json=body, headers=member.headers))
    assert replaced["vat_id"] is None
    assert replaced["tax_number"] == "181/815/08155"
    assert rows(MemberBillingProfile) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"vat_id": "DE136695977"}, "vat_id"),  # check digit
        ({"vat_id": "ATU57194903"}, "vat_id"),  # Austria's, for an address in Berlin
        ({"vat_id": "FR61954506077"}, "vat_id"),
        ({"vat_id": None, "tax_number": "59-119/9013"}, "tax_number"),  # AT form in DE
        ({"vat_id": None}, "vat_id"),  # neither a VAT ID nor a tax number
        ({"legal_name": None}, "legal_name"),
        ({"legal_name": "   "}, "legal_name"),
        ({"street": ""}, "street"),
        ({"postcode": "1011"}, "postcode"),  # DE has five digits
        ({"country": "FR", "postcode": "75001"}, "country"),  # members bill from DE, AT, CH
        ({"country": "XX"}, "country"),
        ({"buyer_reference": "PO-1"}, "buyer_reference"),  # a customer's field
        ({"invoice_email": "a@b.example"}, "invoice_email"),
        ({"vat_id": "DE" + "1" * 60}, "vat_id"),  # longer than any
    ],
)
def test_a_member_profile_that_does_not_fit_is_a_422_naming_the_field(
    client, member, changes, field
):
    response = client.put(ME, json={**MEMBER_BODY, **changes}, headers=member.headers)
    assert fields_at_fault(response) == {field}
    assert rows(MemberBillingProfile) == 0


@pytest.mark.parametrize("missing", ["street", "postcode", "city", "country"])
def test_an_address_field_left_out_is_a_422(client, member, missing):
    body = {k: v for k, v in MEMBER_BODY.items() if k != missing}
    assert fields_at_fault(client.put(ME, json=body, headers=member.headers)) == {missing}


@pytest.mark.parametrize(
    ("changes", "vat_id", "tax_number"),
    [
        # A Kleinunternehmer needs neither; may give a tax number.
        ({"vat_id": None, "small_business": True}, None, None),
        ({"vat_id": None, "small_business": True, "tax_number": "181/815/08155"}, None,
         "181/815/08155"),
        # Austria: UID and Abgabenkontonummer.
        ({"country": "AT", "postcode": "1010", "city": "Wien", "vat_id": "ATU57194903"},
         "ATU57194903", None),
        ({"country": "AT", "postcode": "1010", "city": "Wien", "vat_id": None,
          "tax_number": "591199013"}, None, "59-119/9013"),
        # Switzerland: the VAT number (a bare UID taken as its MWST number) or the UID.
        ({"country": "CH", "postcode": "8001", "city": "Zürich", "vat_id": "CHE107787577"},
         "CHE-107.787.577 MWST", None),
        ({"country": "CH", "postcode": "8001", "city": "Zürich", "vat_id": None,
          "tax_number": "CHE-100.155.212"}, None, "CHE-100.155.212"),
    ],
)  # fmt: skip
def test_valid_member_profiles_of_de_at_ch(client, member, changes, vat_id, tax_number):
    saved = ok(client.put(ME, json={**MEMBER_BODY, **changes}, headers=member.headers))
    assert (saved["vat_id"], saved["tax_number"]) == (vat_id, tax_number)


# --- customers -------------------------------------------------------------------------------


def test_a_customer_without_a_profile_is_billed_at_their_default_address(client, business):
    bare = ok(client.get(ME, headers=business.headers))
    assert (bare["party"], bare["saved"], bare["complete"]) == ("customer", False, False)
    assert bare["legal_name"] == "Muster AG" and bare["is_business"] is True
    ok(client.post("/api/v1/me/customer/addresses", json=ADDRESS, headers=business.headers), 201)
    body = ok(client.get(ME, headers=business.headers))
    assert body["complete"] is True and body["saved"] is False
    assert (body["street"], body["postcode"], body["city"], body["country"]) == (
        "Bahnhofstr. 3",
        "8001",
        "Zürich",
        "CH",
    )
    assert body["email"] == business.email and body["vat_id"] is None
    assert "tax_number" not in body


def test_a_swiss_business_customer_saves_its_vat_number_and_buyer_reference(client, business):
    body = {
        "street": "Bahnhofstr. 3",
        "postcode": "8001",
        "city": "Zürich",
        "country": "CH",
        "vat_id": "CHE-107.787.577 MWST",
        "buyer_reference": "PO 4711",
        "invoice_email": "rechnungen@muster.example",
    }
    saved = ok(client.put(ME, json=body, headers=business.headers))
    # No legal name given: the company name, whatever it is when a document is made.
    assert saved["legal_name"] == "Muster AG"
    assert db.session.get(CustomerBillingProfile, business.profile_id).legal_name is None
    assert saved["vat_id"] == "CHE-107.787.577 MWST"
    assert saved["email"] == "rechnungen@muster.example"
    assert (saved["saved"], saved["complete"], saved["buyer_reference"]) == (True, True, "PO 4711")


def test_a_customer_elsewhere_in_the_eu_with_its_vat_id(client, business):
    body = {"street": "1 rue de Rivoli", "postcode": "75001", "city": "Paris", "country": "FR",
            "vat_id": "FR 61 954 506 077", "legal_name": "Muster SARL"}  # fmt: skip
    saved = ok(client.put(ME, json=body, headers=business.headers))
    assert (saved["vat_id"], saved["legal_name"]) == ("FR61954506077", "Muster SARL")


CUSTOMER_BODY = {"street": "Ring 1", "postcode": "1010", "city": "Wien", "country": "AT"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"vat_id": "ATU57194904"}, "vat_id"),  # check digit
        ({"vat_id": "DE136695976"}, "vat_id"),  # Germany's, for an address in Vienna
        ({"tax_number": "59-119/9013"}, "tax_number"),  # a member's field
        ({"small_business": False}, "small_business"),
        ({"postcode": "10117"}, "postcode"),  # AT has four digits
        ({"country": "US"}, "country"),
        ({"invoice_email": "not-an-address"}, "invoice_email"),
        ({"buyer_reference": "x" * 101}, "buyer_reference"),
    ],
)
def test_a_customer_profile_that_does_not_fit_is_a_422(client, business, changes, field):
    response = client.put(ME, json={**CUSTOMER_BODY, **changes}, headers=business.headers)
    assert fields_at_fault(response) == {field}
    assert rows(CustomerBillingProfile) == 0


def test_a_private_customer_gives_no_vat_id(client, customer):
    response = client.put(
        ME, json={**CUSTOMER_BODY, "vat_id": "ATU57194903"}, headers=customer.headers
    )
    assert fields_at_fault(response) == {"vat_id"}
    saved = ok(client.put(ME, json=CUSTOMER_BODY, headers=customer.headers))
    assert saved["is_business"] is False and saved["legal_name"].startswith("Customer ")


# --- who may see which -----------------------------------------------------------------------


def test_staff_read_members_and_customers_profiles(client, member, business, cm, admin):
    ok(client.put(ME, json=MEMBER_BODY, headers=member.headers))
    for staff in (cm, admin):
        member_view = ok(
            client.get(
                f"/api/v1/members/{member.profile_id}/billing-profile", headers=staff.headers
            )
        )
        assert member_view["vat_id"] == "DE136695976"
        customer_view = ok(
            client.get(
                f"/api/v1/customers/{business.profile_id}/billing-profile", headers=staff.headers
            )
        )
        assert customer_view["party"] == "customer" and customer_view["saved"] is False
    problem(client.get("/api/v1/members/999999/billing-profile", headers=cm.headers), 404)
    problem(client.get("/api/v1/customers/999999/billing-profile", headers=cm.headers), 404)


def test_parties_read_no_one_elses_profile(client, member, other_member, business):
    member_url = f"/api/v1/members/{member.profile_id}/billing-profile"
    customer_url = f"/api/v1/customers/{business.profile_id}/billing-profile"
    # A member cannot read a customer's, a customer not a member's — nor their own this way.
    problem(client.get(customer_url, headers=member.headers), 403)
    problem(client.get(member_url, headers=business.headers), 403)
    problem(client.get(member_url, headers=member.headers), 403)
    problem(client.get(member_url, headers=other_member.headers), 403)
    problem(client.get(member_url), 401)
    # /me is one's own: the member's answer is about the member only.
    ok(client.put(ME, json=MEMBER_BODY, headers=member.headers))
    assert ok(client.get(ME, headers=other_member.headers))["saved"] is False
    assert ok(client.get(ME, headers=business.headers))["party"] == "customer"


def test_staff_have_no_billing_profile_of_their_own(client, cm):
    problem(client.get(ME, headers=cm.headers), 403)
    problem(client.put(ME, json=MEMBER_BODY, headers=cm.headers), 403)
