"""Customers' saved payment methods: one per customer, validated, their own only."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from payouts.models import CustomerPaymentMethod
from tests.jobs.conftest import post_job_via_api
from tests.payouts.job_money_helpers import save_method

pytestmark = pytest.mark.usefixtures("ledger_sound")

PATH = "/api/v1/me/customer/payment-method"


def test_a_customer_saves_and_reads_their_payment_method(client, customer):
    saved = save_method(client, customer, "pm_card_visa", customer_ref="cus_Abc123")
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["payment_method"] == "pm_card_visa"
    shown = client.get(PATH, headers=customer.headers)
    assert shown.status_code == 200
    assert (shown.get_json()["payment_method"], shown.get_json()["customer_ref"]) == (
        "pm_card_visa",
        "cus_Abc123",
    )


def test_saving_again_replaces_the_method(client, customer):
    save_method(client, customer, "pm_card_visa")
    replaced = save_method(client, customer, "pm_card_mastercard")
    assert replaced.status_code == 200
    assert replaced.get_json()["customer_ref"] is None
    count = select(func.count()).select_from(CustomerPaymentMethod)
    assert db.session.scalar(count) == 1
    assert client.get(PATH, headers=customer.headers).get_json()["payment_method"] == (
        "pm_card_mastercard"
    )


def test_without_a_saved_method_reading_it_is_a_404(client, customer):
    response = client.get(PATH, headers=customer.headers)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "https://crowd.example/problems/payment-method-missing"


def test_a_job_can_be_posted_without_a_payment_method(client, customer):
    assert post_job_via_api(client, customer).status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"payment_method": "card_123"}, "payment_method"),
        ({"payment_method": "pm_"}, "payment_method"),
        ({"payment_method": "pm_abc def"}, "payment_method"),
        ({"payment_method": "pm_" + "a" * 251}, "payment_method"),
        ({"payment_method": 42}, "payment_method"),
        ({}, "payment_method"),
        ({"payment_method": "pm_card_visa", "customer_ref": "acct_1"}, "customer_ref"),
        ({"payment_method": "pm_card_visa", "card_number": "4242"}, "card_number"),
    ],
)
def test_a_malformed_payment_method_is_a_422_naming_the_field(client, customer, body, field):
    response = client.put(PATH, json=body, headers=customer.headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert db.session.scalar(select(func.count()).select_from(CustomerPaymentMethod)) == 0


def test_payment_methods_are_for_customers_only(client, member, cm):
    body = {"payment_method": "pm_card_visa"}
    assert client.put(PATH, json=body).status_code == 401
    assert client.get(PATH).status_code == 401
    assert client.put(PATH, json=body, headers=member.headers).status_code == 403
    assert client.get(PATH, headers=cm.headers).status_code == 403
