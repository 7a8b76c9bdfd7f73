"""Links: articles shown with onboarding steps (GET /me/onboarding) and training modules."""

from __future__ import annotations

from tests.helpcentre.conftest import (
    ARTICLES,
    create_article,
    field_errors,
    link,
    ok,
    problem,
    publish,
    published_article,
    read,
)
from tests.onboarding.test_training import create_module

MODULES = "/api/v1/training-modules"


def _step(client, member, name: str) -> dict:
    steps = ok(client.get("/api/v1/me/onboarding", headers=member.headers))["steps"]
    return next(step for step in steps if step["name"] == name)


def test_linked_articles_show_on_their_onboarding_step_in_link_order(client, cm, member):
    later = published_article(client, cm, title="Which documents count")
    first = published_article(client, cm, title="Verify your identity", summary="In 3 steps")
    ok(link(client, cm, later["id"], position=2), 201)
    created = ok(link(client, cm, first["id"], position=1), 201)
    ok(link(client, cm, first["id"], key="house_rules"), 201)

    identity = _step(client, member, "identity")

    assert identity["articles"] == [
        {
            "id": first["id"],
            "slug": first["slug"],
            "title": "Verify your identity",
            "summary": "In 3 steps",
        },
        {
            "id": later["id"],
            "slug": later["slug"],
            "title": "Which documents count",
            "summary": later["summary"],
        },
    ]
    assert [a["id"] for a in _step(client, member, "house_rules")["articles"]] == [first["id"]]
    assert _step(client, member, "profile")["articles"] == []
    assert created["target_kind"] == "onboarding_step" and created["position"] == 1
    assert [lk["target_key"] for lk in read(client, cm, first["id"])["links"]] == [
        "house_rules",
        "identity",
    ]


def test_steps_show_only_published_articles_for_members(client, cm, member):
    draft = create_article(client, cm)
    for_customers = published_article(client, cm, audience="customers")
    for_everyone = published_article(client, cm, audience="everyone")
    archived = published_article(client, cm)
    ok(client.post(f"{ARTICLES}/{archived['id']}/archive", headers=cm.headers))
    for article in (draft, for_customers, for_everyone, archived):
        ok(link(client, cm, article["id"]), 201)

    assert [a["id"] for a in _step(client, member, "identity")["articles"]] == [for_everyone["id"]]
    publish(client, cm, draft["id"])
    assert [a["id"] for a in _step(client, member, "identity")["articles"]] == [
        draft["id"],
        for_everyone["id"],
    ]


def test_training_modules_list_their_articles(client, cm, member):
    create_module(client, cm, "mains-safety", title="Mains safety")
    create_module(client, cm, "customer-care")
    article = published_article(client, cm, title="Isolating a device")
    ok(link(client, cm, article["id"], kind="training_module", key="mains-safety"), 201)

    for reader in (member, cm):
        modules = ok(client.get(MODULES, headers=reader.headers))["items"]
        by_code = {m["code"]: m["articles"] for m in modules}
        assert [a["title"] for a in by_code["mains-safety"]] == ["Isolating a device"]
        assert by_code["customer-care"] == []
    changed = ok(
        client.patch(f"{MODULES}/mains-safety", json={"duration_minutes": 30}, headers=cm.headers)
    )
    assert [a["id"] for a in changed["articles"]] == [article["id"]]


def test_a_link_needs_an_existing_target_and_is_made_once(client, cm, member):
    article = create_article(client, cm)["id"]
    create_module(client, cm, "mains-safety")

    assert "target_key" in field_errors(link(client, cm, article, key="no_such_step"))
    unknown_module = link(client, cm, article, kind="training_module", key="no-such-module")
    assert "target_key" in field_errors(unknown_module)
    # A step name is not a module code, and the other way round.
    assert "target_key" in field_errors(link(client, cm, article, kind="training_module"))
    assert "target_key" in field_errors(link(client, cm, article, key="mains-safety"))
    assert "target_kind" in field_errors(link(client, cm, article, kind="job"))
    ok(link(client, cm, article), 201)
    duplicate = problem(link(client, cm, article), 409)
    assert duplicate["state"] == "linked"
    problem(link(client, cm, 999_999), 404)
    problem(link(client, member, article), 403)


def test_staff_remove_a_link(client, cm, member):
    article = published_article(client, cm)["id"]
    other = create_article(client, cm)["id"]
    created = ok(link(client, cm, article), 201)
    url = f"{ARTICLES}/{article}/links/{created['id']}"

    problem(client.delete(f"{ARTICLES}/{other}/links/{created['id']}", headers=cm.headers), 404)
    problem(client.delete(url, headers=member.headers), 403)
    assert client.delete(url, headers=cm.headers).status_code == 204

    assert _step(client, member, "identity")["articles"] == []
    problem(client.delete(url, headers=cm.headers), 404)
    # Linked again after removal.
    ok(link(client, cm, article), 201)
