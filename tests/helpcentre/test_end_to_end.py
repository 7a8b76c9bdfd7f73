"""Through the API: a community manager's article, found by an applicant and shown on a step."""

from __future__ import annotations

from tests.factories import make_actor

API = "/api/v1"


def test_an_article_found_by_search_is_linked_from_an_onboarding_step(client):
    cm = make_actor("community_manager")
    applicant = make_actor("member")

    def call(method, url, actor, status, **kwargs):
        response = client.open(url, method=method, headers=actor.headers, **kwargs)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    category = call(
        "POST", f"{API}/help/categories", cm, 201, json={"slug": "onboarding", "name": "Onboarding"}
    )
    article = call(
        "POST",
        f"{API}/help/articles",
        cm,
        201,
        json={
            "slug": "verify-your-identity",
            "category_id": category["id"],
            "audience": "members",
            "title": "Verify your identity",
            "summary": "Which documents we accept and how the check works.",
            "body": "Show your ID card or passport; a community manager checks it within a day.",
        },
    )
    assert article["status"] == "draft"
    # A draft is nobody's to find yet.
    assert call("GET", f"{API}/help/search?q=passport", applicant, 200)["items"] == []

    call("POST", f"{API}/help/articles/{article['id']}/publish", cm, 200, json={})
    call(
        "POST",
        f"{API}/help/articles/{article['id']}/links",
        cm,
        201,
        json={"target_kind": "onboarding_step", "target_key": "identity"},
    )

    found = call("GET", f"{API}/help/search?q=Passport%20ID", applicant, 200)["items"]
    assert [hit["slug"] for hit in found] == ["verify-your-identity"]
    assert "passport" in found[0]["snippet"]

    steps = call("GET", f"{API}/me/onboarding", applicant, 200)["steps"]
    identity = next(step for step in steps if step["name"] == "identity")
    assert [a["id"] for a in identity["articles"]] == [found[0]["id"]]
    assert identity["articles"][0]["title"] == "Verify your identity"

    url = f"{API}/help/articles/verify-your-identity"
    answer = call("POST", f"{url}/feedback", applicant, 200, json={"helpful": True})
    assert (answer["helpful_count"], answer["not_helpful_count"]) == (1, 0)
    read = call("GET", url, applicant, 200)
    assert (read["helpful_count"], read["not_helpful_count"]) == (1, 0)
    assert read["my_feedback"]["helpful"] is True

    call("POST", f"{url}/feedback", applicant, 200, json={"helpful": False, "comment": "Too long"})
    read = call("GET", url, applicant, 200)
    assert (read["helpful_count"], read["not_helpful_count"]) == (0, 1)
    comments = call("GET", f"{url}/feedback", cm, 200)["items"]
    assert [c["comment"] for c in comments] == ["Too long"]
