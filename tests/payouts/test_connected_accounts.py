"""Payout accounts: a member's connected account, its onboarding link and who may see it."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from crowd.extensions import db
from payouts.models import ConnectedAccount
from tests.factories import make_actor
from tests.secret_scan import assert_secret_nowhere

URL = "/api/v1/me/payout-account"
LINKS = {
    "refresh_url": "https://app.example/payout/refresh",
    "return_url": "https://app.example/payout/done",
}


@pytest.fixture
def member_de():
    return make_actor("member", country="DE")


def post_account(client, actor, body=None, **headers):
    return client.post(
        URL, json=LINKS if body is None else body, headers={**actor.headers, **headers}
    )


def accounts_of(member_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ConnectedAccount)
        .where(ConnectedAccount.member_id == member_id)
    )


# --- offline (the embedded default) ---------------------------------------------------------


def test_offline_account_is_created_enabled_and_onboarding_returns_at_once(client, member_de):
    response = post_account(client, member_de)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["onboarding_url"] == LINKS["return_url"]
    account = body["account"]
    assert account["provider"] == "offline"
    assert account["account_id"].startswith("off_acct_")
    assert (account["member_id"], account["country"]) == (member_de.profile_id, "DE")
    assert account["payouts_enabled"] is True


def test_a_second_post_keeps_the_one_account(client, member_de):
    first = post_account(client, member_de).get_json()["account"]
    second = post_account(client, member_de).get_json()["account"]
    assert second["account_id"] == first["account_id"]
    assert accounts_of(member_de.profile_id) == 1


def test_own_account_state_is_readable(client, member_de):
    assert client.get(URL, headers=member_de.headers).status_code == 404
    post_account(client, member_de)
    response = client.get(URL, headers=member_de.headers)
    assert response.status_code == 200
    assert response.get_json()["payouts_enabled"] is True


def test_country_comes_from_the_request_when_the_profile_has_none(client):
    member = make_actor("member")
    response = post_account(client, member, {**LINKS, "country": "CH"})
    assert response.status_code == 201
    assert response.get_json()["account"]["country"] == "CH"


def test_without_any_country_it_is_a_422_naming_the_field(client):
    member = make_actor("member")
    response = post_account(client, member)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "json": {"country": ["required: your profile has no country"]}
    }
    assert accounts_of(member.profile_id) == 0


def test_another_country_than_the_account_is_a_409(client, member_de):
    post_account(client, member_de)
    response = post_account(client, member_de, {**LINKS, "country": "AT"})
    assert response.status_code == 409


@pytest.mark.parametrize(
    "field, value",
    [
        ("return_url", "http://app.example/done"),
        ("refresh_url", "javascript:alert(1)"),
        ("return_url", "not a url"),
    ],
)
def test_onboarding_urls_must_be_https(client, member_de, field, value):
    response = post_account(client, member_de, {**LINKS, field: value})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_without_urls_or_configured_defaults_it_is_a_422(client, member_de):
    response = post_account(client, member_de, {"refresh_url": LINKS["refresh_url"]})
    assert response.status_code == 422
    assert "return_url" in response.get_json()["errors"]["json"]


def test_unknown_fields_are_refused(client, member_de):
    response = post_account(client, member_de, {**LINKS, "payouts_enabled": True})
    assert response.status_code == 422


def test_only_members_have_payout_accounts(client, customer, cm):
    assert post_account(client, customer).status_code == 403
    assert post_account(client, cm).status_code == 403
    assert client.post(URL, json=LINKS).status_code == 401
    assert client.get(URL, headers=customer.headers).status_code == 403


def test_staff_see_a_members_payout_account(client, member_de, cm, admin):
    url = f"/api/v1/members/{member_de.profile_id}/payout-account"
    assert client.get(url, headers=cm.headers).status_code == 404
    post_account(client, member_de)
    for staff in (cm, admin):
        response = client.get(url, headers=staff.headers)
        assert response.status_code == 200
        assert response.get_json()["member_id"] == member_de.profile_id


def test_members_cannot_read_anyones_payout_account_by_id(client, member_de, other_member):
    post_account(client, member_de)
    url = f"/api/v1/members/{member_de.profile_id}/payout-account"
    assert client.get(url, headers=member_de.headers).status_code == 403
    assert client.get(url, headers=other_member.headers).status_code == 403


def test_unknown_member_is_a_404(client, cm):
    response = client.get("/api/v1/members/999999/payout-account", headers=cm.headers)
    assert response.status_code == 404
    assert response.get_json()["detail"] == "No such crowd member."


# --- Stripe (the SDK against the local fake) ------------------------------------------------


def test_stripe_account_is_created_linked_and_not_yet_enabled(
    client, member_de, stripe_settings, stripe_fake
):
    response = post_account(client, member_de)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    account_id = body["account"]["account_id"]
    assert body["account"]["provider"] == "stripe"
    assert body["account"]["payouts_enabled"] is False
    assert body["onboarding_url"].startswith(f"https://connect.stripe.test/setup/e/{account_id}/")
    create, retrieve, link = stripe_fake.calls()
    assert (create.method, create.path) == ("POST", "/v1/accounts")
    assert create.params["email"] == member_de.email
    assert create.params["country"] == "DE"
    assert create.params["metadata"] == {"member_id": str(member_de.profile_id)}
    assert create.idempotency_key == f"connected-account-member-{member_de.profile_id}"
    assert (retrieve.method, retrieve.path) == ("GET", f"/v1/accounts/{account_id}")
    assert (link.path, link.params["return_url"]) == ("/v1/account_links", LINKS["return_url"])


def test_a_later_post_refreshes_the_state_and_gives_a_new_link(
    client, member_de, stripe_settings, stripe_fake
):
    first = post_account(client, member_de).get_json()
    account_id = first["account"]["account_id"]
    stripe_fake.set_account(account_id, payouts_enabled=True, details_submitted=True)
    second = post_account(client, member_de).get_json()
    assert second["account"]["payouts_enabled"] is True
    assert second["onboarding_url"] != first["onboarding_url"]
    assert len(stripe_fake.calls("POST", "/v1/accounts")) == 1


def test_an_idempotency_key_replays_the_response_without_calling_stripe(
    client, member_de, stripe_settings, stripe_fake
):
    first = post_account(client, member_de, **{"Idempotency-Key": "payout-account-1"})
    again = post_account(client, member_de, **{"Idempotency-Key": "payout-account-1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Idempotent-Secrets-Withheld"] == "onboarding_url"
    # The single-use onboarding link is shown once and stored nowhere; a POST without the key
    # gets a fresh one.
    assert first.get_json()["onboarding_url"].startswith("https://")
    assert again.get_json() == {**first.get_json(), "onboarding_url": None}
    assert_secret_nowhere(first.get_json()["onboarding_url"])
    assert len(stripe_fake.calls("POST", "/v1/account_links")) == 1


def test_a_lost_commit_and_a_retry_get_the_same_stripe_account(
    client, member_de, stripe_settings, stripe_fake
):
    first = post_account(client, member_de).get_json()["account"]["account_id"]
    # As if our transaction had been lost after Stripe made the account.
    db.session.execute(delete(ConnectedAccount))
    db.session.commit()
    second = post_account(client, member_de).get_json()["account"]["account_id"]
    assert second == first
    assert len(stripe_fake.accounts) == 1


def test_a_provider_refusal_is_a_problem_and_stores_nothing(
    client, member_de, stripe_settings, stripe_fake
):
    stripe_fake.fail_next(
        r"/v1/accounts",
        status=400,
        type="invalid_request_error",
        code="country_unsupported",
        message="Country not supported.",
    )
    response = post_account(client, member_de)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "country_unsupported"
    assert accounts_of(member_de.profile_id) == 0


def test_refused_credentials_are_a_503(client, member_de, stripe_settings, stripe_fake):
    stripe_fake.api_key = "sk_test_other"
    try:
        response = post_account(client, member_de)
    finally:
        stripe_fake.api_key = "sk_test_fake"
    assert response.status_code == 503
    assert response.get_json()["type"].endswith("/payment-provider-unavailable")
    # A member in Germany who named no language at sign-up reads German.
    assert response.get_json()["title"] == "Zahlungsanbieter nicht verfügbar"


def test_state_as_of_is_when_it_was_retrieved(client, member_de, stripe_settings, stripe_fake):
    before = datetime.now(UTC).replace(microsecond=0)
    post_account(client, member_de)
    account = db.session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.member_id == member_de.profile_id)
    )
    assert account.updated_from_event_at >= before
