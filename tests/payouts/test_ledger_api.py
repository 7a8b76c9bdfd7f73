"""Reading the ledger over HTTP: admins see accounts and transactions, a member their balance."""

from __future__ import annotations

import pytest

from crowd.extensions import db
from payouts import ledger
from payouts.ledger import Line, account_code_for_member
from tests.payouts.conftest import settle

pytestmark = pytest.mark.usefixtures("ledger_sound")

ACCOUNTS = "/api/v1/ledger/accounts"
TRANSACTIONS = "/api/v1/ledger/transactions"
BALANCE = "/api/v1/me/balance"


@pytest.fixture
def books(member, other_member):
    """Two settlements for `member` (EUR, CHF), one for `other_member`, and one reversal."""
    settle(member.profile_id, 10_000, 2_000, key="a", currency="EUR")
    settle(member.profile_id, 5_000, 1_000, key="b", currency="CHF")
    undone = settle(other_member.profile_id, 3_000, 600, key="c", currency="EUR")
    ledger.reverse(undone.id, key="c:reverse")
    db.session.commit()
    return undone


@pytest.mark.parametrize("path", [ACCOUNTS, TRANSACTIONS])
def test_ledger_reads_need_an_admin(client, member, cm, customer, path):
    assert client.get(path).status_code == 401
    for actor in (member, cm, customer):
        response = client.get(path, headers=actor.headers)
        assert response.status_code == 403
        assert response.content_type == "application/problem+json"


def test_admin_lists_accounts_by_prefix_and_currency(client, admin, member, other_member, books):
    response = client.get(
        ACCOUNTS, query_string={"prefix": "member:", "currency": "EUR"}, headers=admin.headers
    )
    assert response.status_code == 200
    items = response.json["items"]
    assert [(a["code"], a["currency"], a["balance"]) for a in items] == sorted(
        [
            (account_code_for_member(member.profile_id), "EUR", 8_000),
            (account_code_for_member(other_member.profile_id), "EUR", 0),
        ]
    )
    assert {(a["kind"], a["allow_negative"]) for a in items} == {("liability", False)}
    assert items[0]["member_id"] in {member.profile_id, other_member.profile_id}
    assert response.json["page"]["total"] == 2


def test_an_account_prefix_is_matched_literally(client, admin, books):
    response = client.get(ACCOUNTS, query_string={"prefix": "%"}, headers=admin.headers)
    assert response.status_code == 200
    assert response.json["items"] == []
    response = client.get(ACCOUNTS, query_string={"prefix": "platform:"}, headers=admin.headers)
    assert {(a["code"], a["currency"]) for a in response.json["items"]} == {
        ("platform:revenue", "EUR"),
        ("platform:revenue", "CHF"),
    }


def test_accounts_page_through_with_the_cursor(client, admin, books):
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(ACCOUNTS, query_string=query, headers=admin.headers).json
        seen += [(a["code"], a["currency"]) for a in page["items"]]
        cursor = page["page"]["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == page["page"]["total"] == 7


def test_admin_lists_transactions_with_entries_newest_first(client, admin, books):
    response = client.get(TRANSACTIONS, headers=admin.headers)
    assert response.status_code == 200
    items = response.json["items"]
    assert [t["key"] for t in items] == ["c:reverse", "c", "b", "a"]
    assert items[0]["reverses_id"] == books.id
    assert items[0]["kind"] == "reversal"
    assert sum(entry["amount"] for entry in items[1]["entries"]) == 0
    assert {entry["account"] for entry in items[1]["entries"]} >= {"clearing:payments"}


def test_transactions_filter_by_account_currency_and_member(client, admin, member, books):
    payable = account_code_for_member(member.profile_id)
    by_account = client.get(TRANSACTIONS, query_string={"account": payable}, headers=admin.headers)
    assert [t["key"] for t in by_account.json["items"]] == ["b", "a"]
    in_chf = client.get(TRANSACTIONS, query_string={"currency": "CHF"}, headers=admin.headers)
    assert [t["key"] for t in in_chf.json["items"]] == ["b"]
    kinds = client.get(TRANSACTIONS, query_string={"kind": "reversal"}, headers=admin.headers)
    assert [t["key"] for t in kinds.json["items"]] == ["c:reverse"]


def test_transactions_filter_by_job_and_member_reference(client, admin, member):
    settle(member.profile_id, key="tagged", member_id=member.profile_id)
    settle(member.profile_id, 2_000, 400, key="untagged")
    db.session.commit()
    response = client.get(
        TRANSACTIONS, query_string={"member_id": member.profile_id}, headers=admin.headers
    )
    assert [t["key"] for t in response.json["items"]] == ["tagged"]
    response = client.get(TRANSACTIONS, query_string={"job_id": 1}, headers=admin.headers)
    assert response.json["items"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ({"currency": "USD"}, "currency"),
        ({"job_id": "x"}, "job_id"),
        ({"member_id": 0}, "member_id"),
        ({"limit": 0}, "limit"),
        ({"cursor": "!!"}, "cursor"),
    ],
)
def test_bad_transaction_filters_get_422_naming_the_field(client, admin, query, field):
    response = client.get(TRANSACTIONS, query_string=query, headers=admin.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["query"]


def test_a_member_sees_their_payable_per_currency(client, member, books):
    response = client.get(BALANCE, headers=member.headers)
    assert response.status_code == 200
    assert response.json == {
        "member_id": member.profile_id,
        "balances": [{"currency": "EUR", "payable": 8_000}, {"currency": "CHF", "payable": 4_000}],
    }


def test_a_member_without_postings_has_zero_in_both_currencies(client, member):
    response = client.get(BALANCE, headers=member.headers)
    assert response.json["balances"] == [
        {"currency": "EUR", "payable": 0},
        {"currency": "CHF", "payable": 0},
    ]


def test_a_payout_shows_as_a_lower_balance(client, member):
    settle(member.profile_id, key="earn")
    payable = account_code_for_member(member.profile_id)
    ledger.post(
        key="pay",
        kind="payout",
        currency="EUR",
        lines=[Line(payable, 5_000), Line("payouts:in_transit", -5_000)],
    )
    db.session.commit()
    response = client.get(BALANCE, headers=member.headers)
    assert response.json["balances"][0] == {"currency": "EUR", "payable": 3_000}


def test_only_members_have_a_balance(client, admin, customer):
    assert client.get(BALANCE).status_code == 401
    assert client.get(BALANCE, headers=customer.headers).status_code == 403
    assert client.get(BALANCE, headers=admin.headers).status_code == 403
