"""Favourite and blocked members: idempotent PUT, 204 DELETE, exclusivity, member rules."""

import pytest

from customers import service
from members.models import Member, MemberStats
from tests.factories import make_actor

FAVOURITES = "/api/v1/me/customer/favourites"
BLOCKED = "/api/v1/me/customer/blocked"
PROBLEM = "application/problem+json"


def _member(db_session, status="active", city="Leipzig", ratings=()):
    """A member in `status` (the members API is not ours to call); optional star ratings."""
    actor = make_actor("member")
    member = db_session.get(Member, actor.profile_id)
    member.status = status
    member.city = city
    if ratings:
        stats = db_session.get(MemberStats, member.id)
        stats.rating_count, stats.rating_sum = len(ratings), sum(ratings)
        stats.average_rating = round(sum(ratings) / len(ratings), 3)
    db_session.commit()
    return actor


@pytest.fixture
def crew(db_session):
    return _member(db_session, ratings=(5, 4))


def _ids(client, actor, url) -> list[int]:
    response = client.get(url, headers=actor.headers)
    assert response.status_code == 200
    return [item["member_id"] for item in response.json["items"]]


# --- favourites --------------------------------------------------------------------------------


def test_customer_favourites_a_member(client, customer, crew):
    response = client.put(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 200
    assert response.json["member_id"] == crew.profile_id
    items = client.get(FAVOURITES, headers=customer.headers).json["items"]
    assert len(items) == 1
    listed = items[0]
    assert listed["member_id"] == crew.profile_id
    assert listed["display_name"].startswith("Member")
    assert listed["city"] == "Leipzig"
    assert listed["average_rating"] == 4.5
    assert listed["created_at"] == response.json["created_at"]


def test_favouriting_twice_is_200_and_lists_once(client, customer, crew):
    first = client.put(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    again = client.put(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert _ids(client, customer, FAVOURITES) == [crew.profile_id]


def test_member_without_ratings_lists_null_rating(client, customer, db_session):
    fresh = _member(db_session, city=None)
    client.put(f"{FAVOURITES}/{fresh.profile_id}", headers=customer.headers)
    listed = client.get(FAVOURITES, headers=customer.headers).json["items"][0]
    assert listed["average_rating"] is None
    assert listed["city"] is None


def test_favourites_list_newest_first(client, customer, db_session):
    members = [_member(db_session) for _ in range(3)]
    for m in members:
        client.put(f"{FAVOURITES}/{m.profile_id}", headers=customer.headers)
    assert _ids(client, customer, FAVOURITES) == [m.profile_id for m in reversed(members)]


def test_removing_a_favourite_is_204(client, customer, crew):
    client.put(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    response = client.delete(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 204
    assert response.data == b""
    assert _ids(client, customer, FAVOURITES) == []


def test_removing_a_non_favourite_is_404(client, customer, crew):
    response = client.delete(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_favourites_are_per_customer(client, customer, other_customer, crew):
    client.put(f"{FAVOURITES}/{crew.profile_id}", headers=other_customer.headers)
    assert _ids(client, customer, FAVOURITES) == []
    response = client.delete(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 404
    assert _ids(client, other_customer, FAVOURITES) == [crew.profile_id]


def test_favouriting_an_unknown_member_is_404(client, customer):
    response = client.put(f"{FAVOURITES}/999999", headers=customer.headers)
    assert response.status_code == 404
    assert response.content_type == PROBLEM


@pytest.mark.parametrize("url", [FAVOURITES, BLOCKED])
@pytest.mark.parametrize("status", ["applicant", "suspended", "offboarded"])
def test_a_member_outside_the_working_crowd_is_as_unknown_as_a_missing_one(
    client, customer, db_session, url, status
):
    """Nothing tells an applicant, a suspended or a departed member from an unused id: the
    same 404 problem, body for body, and nothing of theirs (name, city, rating) comes back."""
    hidden = _member(db_session, status=status, ratings=(5,))
    response = client.put(f"{url}/{hidden.profile_id}", headers=customer.headers)
    missing = client.put(f"{url}/999999", headers=customer.headers)
    assert response.status_code == missing.status_code == 404
    assert response.content_type == PROBLEM
    assert _without_instance(response.json) == _without_instance(missing.json)
    assert "Leipzig" not in response.get_data(as_text=True)
    assert _ids(client, customer, url) == []


def _without_instance(problem: dict) -> dict:
    return {key: value for key, value in problem.items() if key != "instance"}


@pytest.mark.parametrize("status", ["active", "paused"])
def test_members_of_the_working_crowd_can_be_favourites(client, customer, db_session, status):
    someone = _member(db_session, status=status)
    response = client.put(f"{FAVOURITES}/{someone.profile_id}", headers=customer.headers)
    assert response.status_code == 200


# --- blocked -----------------------------------------------------------------------------------


def test_customer_blocks_a_member_with_a_reason(client, customer, crew):
    response = client.put(
        f"{BLOCKED}/{crew.profile_id}", json={"reason": "Late twice"}, headers=customer.headers
    )
    assert response.status_code == 200
    items = client.get(BLOCKED, headers=customer.headers).json["items"]
    assert [(i["member_id"], i["reason"]) for i in items] == [(crew.profile_id, "Late twice")]
    assert items[0]["average_rating"] == 4.5


def test_blocking_without_a_body(client, customer, crew):
    response = client.put(f"{BLOCKED}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 200
    assert response.json["reason"] is None
    assert _ids(client, customer, BLOCKED) == [crew.profile_id]


def test_blocking_again_is_200_and_replaces_the_reason(client, customer, crew):
    path = f"{BLOCKED}/{crew.profile_id}"
    first = client.put(path, json={"reason": "Late"}, headers=customer.headers)
    again = client.put(path, json={"reason": "Rude"}, headers=customer.headers)
    assert again.status_code == 200
    assert again.json["created_at"] == first.json["created_at"]
    items = client.get(BLOCKED, headers=customer.headers).json["items"]
    assert [i["reason"] for i in items] == ["Rude"]


@pytest.mark.parametrize(
    ("body", "field"), [({"reason": "x" * 501}, "reason"), ({"why": "x"}, "why")]
)
def test_invalid_block_body_is_422(client, customer, crew, body, field):
    response = client.put(f"{BLOCKED}/{crew.profile_id}", json=body, headers=customer.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert _ids(client, customer, BLOCKED) == []


def test_unblocking_is_204(client, customer, crew):
    client.put(f"{BLOCKED}/{crew.profile_id}", headers=customer.headers)
    response = client.delete(f"{BLOCKED}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 204
    assert _ids(client, customer, BLOCKED) == []


def test_unblocking_a_member_not_blocked_is_404(client, customer, crew):
    response = client.delete(f"{BLOCKED}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_blocking_an_unknown_member_is_404(client, customer):
    assert client.put(f"{BLOCKED}/999999", headers=customer.headers).status_code == 404


# --- exclusivity -------------------------------------------------------------------------------


def test_blocking_removes_the_favourite(client, customer, crew):
    client.put(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert client.put(f"{BLOCKED}/{crew.profile_id}", headers=customer.headers).status_code == 200
    assert _ids(client, customer, FAVOURITES) == []
    assert _ids(client, customer, BLOCKED) == [crew.profile_id]


def test_favouriting_a_blocked_member_is_409(client, customer, crew):
    client.put(f"{BLOCKED}/{crew.profile_id}", headers=customer.headers)
    response = client.put(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 409
    assert response.content_type == PROBLEM
    assert _ids(client, customer, FAVOURITES) == []


def test_after_unblocking_the_member_can_be_a_favourite(client, customer, crew):
    client.put(f"{BLOCKED}/{crew.profile_id}", headers=customer.headers)
    client.delete(f"{BLOCKED}/{crew.profile_id}", headers=customer.headers)
    response = client.put(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 200


def test_another_customers_block_does_not_stop_my_favourite(client, customer, other_customer, crew):
    client.put(f"{BLOCKED}/{crew.profile_id}", headers=other_customer.headers)
    response = client.put(f"{FAVOURITES}/{crew.profile_id}", headers=customer.headers)
    assert response.status_code == 200


# --- authorization -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [FAVOURITES, BLOCKED])
def test_member_lists_need_a_customer_token(client, crew, url):
    path = f"{url}/{crew.profile_id}"
    assert client.get(url).status_code == 401
    assert client.put(path).status_code == 401
    assert client.delete(path).status_code == 401
    for role in ("member", "community_manager"):
        headers = make_actor(role).headers
        assert client.get(url, headers=headers).status_code == 403
        response = client.put(path, headers=headers)
        assert response.status_code == 403
        assert response.content_type == PROBLEM


# --- helpers for other domains -----------------------------------------------------------------


def test_id_helpers_reflect_the_lists(client, customer, db_session):
    liked, disliked = _member(db_session), _member(db_session)
    client.put(f"{FAVOURITES}/{liked.profile_id}", headers=customer.headers)
    client.put(f"{BLOCKED}/{disliked.profile_id}", headers=customer.headers)
    assert service.customer_for_user(customer.user_id).id == customer.profile_id
    assert service.blocked_member_ids(customer.profile_id) == {disliked.profile_id}


def test_customer_for_user_without_profile_is_not_found(cm):
    from crowd.core.errors import NotFound

    with pytest.raises(NotFound):
        service.customer_for_user(cm.user_id)
