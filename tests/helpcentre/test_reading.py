"""Readers see published articles of their audience; filters, for_me targeting and staff views."""

from __future__ import annotations

import pytest

from tests.factories import make_actor
from tests.helpcentre.conftest import (
    ARTICLES,
    create_article,
    create_category,
    field_errors,
    listed,
    ok,
    problem,
    published_article,
    read,
    skill_id,
)
from tests.jobs.conftest import active_member


@pytest.fixture
def shelf(client, cm):
    """One published article per audience, a draft and an archived one."""
    category = create_category(client, cm)["id"]
    articles = {
        audience: published_article(client, cm, category, audience=audience)["id"]
        for audience in ("members", "customers", "everyone")
    }
    articles["draft"] = create_article(client, cm, category)["id"]
    archived = published_article(client, cm, category)["id"]
    ok(client.post(f"{ARTICLES}/{archived}/archive", headers=cm.headers))
    articles["archived"] = archived
    return articles


def test_members_and_applicants_read_articles_for_members_and_everyone(client, member, shelf):
    active = active_member()
    for reader in (member, active):  # `member` is an applicant
        assert listed(client, reader) == [shelf["everyone"], shelf["members"]]
        assert read(client, reader, shelf["members"])["id"] == shelf["members"]
        for hidden in ("customers", "draft", "archived"):
            problem(client.get(f"{ARTICLES}/{shelf[hidden]}", headers=reader.headers), 404)


def test_customers_read_articles_for_customers_and_everyone(client, customer, shelf):
    assert listed(client, customer) == [shelf["everyone"], shelf["customers"]]
    for hidden in ("members", "draft", "archived"):
        problem(client.get(f"{ARTICLES}/{shelf[hidden]}", headers=customer.headers), 404)


def test_staff_see_every_article_and_filter_by_status_and_audience(client, cm, shelf):
    everything = listed(client, cm)
    assert everything == sorted(shelf.values(), reverse=True)
    assert listed(client, cm, status="draft") == [shelf["draft"]]
    assert listed(client, cm, status="archived") == [shelf["archived"]]
    assert listed(client, cm, audience="customers") == [shelf["customers"]]
    draft = read(client, cm, shelf["draft"])
    assert draft["status"] == "draft" and draft["version"] == 1


def test_readers_may_not_filter_by_status_or_audience(client, member, shelf):
    for name, value in (("status", "draft"), ("audience", "customers")):
        response = client.get(ARTICLES, query_string={name: value}, headers=member.headers)
        assert name in field_errors(response, "query")


def test_an_article_reads_by_slug_with_its_published_text(client, cm, member):
    article = published_article(client, cm, slug="first-payout", title="Your first payout")

    body = read(client, member, "first-payout")

    assert body["id"] == article["id"]
    assert body["title"] == "Your first payout"
    assert body["body"].startswith("Find the studs")
    assert body["version"] == 1
    assert body["my_feedback"] is None
    # Staff-only fields stay with staff.
    assert not {"status", "links", "created_by_id", "latest_version"} & set(body)
    problem(client.get(f"{ARTICLES}/no-such-article", headers=member.headers), 404)
    problem(client.get(f"{ARTICLES}/99999999999999999999", headers=member.headers), 404)
    problem(client.get(f"{ARTICLES}/²", headers=member.headers), 404)
    problem(client.get(f"{ARTICLES}/first-payout"), 401)


def test_filter_by_category_and_skill(client, cm, member):
    tv, hifi = create_category(client, cm)["id"], create_category(client, cm)["id"]
    mount = published_article(client, cm, tv, skill_ids=[skill_id("tv_wall_mount")])["id"]
    repair = published_article(client, cm, hifi, skill_ids=[skill_id("hifi_repair")])["id"]
    general = published_article(client, cm, tv)["id"]

    assert listed(client, member, category_id=tv) == [general, mount]
    assert listed(client, member, skill_id=skill_id("hifi_repair")) == [repair]
    unknown = client.get(ARTICLES, query_string={"category_id": 999_999}, headers=member.headers)
    assert "category_id" in field_errors(unknown, "query")
    unknown = client.get(ARTICLES, query_string={"skill_id": 999_999}, headers=member.headers)
    assert "skill_id" in field_errors(unknown, "query")


def test_for_me_keeps_articles_targeting_my_skills_and_level(client, cm, customer):
    category = create_category(client, cm)["id"]
    tv, lock = skill_id("tv_wall_mount"), skill_id("smart_lock_install")

    def article(**fields):
        return published_article(client, cm, category, **fields)["id"]

    untargeted = article()
    my_skill = article(skill_ids=[tv, lock])
    other_skill = article(skill_ids=[lock])
    my_level = article(min_level_rank=2, max_level_rank=3)
    too_high = article(min_level_rank=3)
    too_low = article(max_level_rank=1)
    applicants = article(max_level_rank=0)
    senior = active_member(skills=("tv_wall_mount",), level_rank=2)
    applicant = make_actor("member")

    assert listed(client, senior, for_me="true") == [my_level, my_skill, untargeted]
    assert listed(client, applicant, for_me="true") == [applicants, too_low, untargeted]
    assert set(listed(client, senior)) >= {other_skill, too_high, too_low}
    not_member = client.get(ARTICLES, query_string={"for_me": "true"}, headers=customer.headers)
    assert "for_me" in field_errors(not_member, "query")


def test_lists_are_paginated_newest_published_first(client, cm, member):
    category = create_category(client, cm)["id"]
    ids = [published_article(client, cm, category)["id"] for _ in range(3)]

    first = ok(client.get(ARTICLES, query_string={"limit": 2}, headers=member.headers))
    cursor = first["page"]["next_cursor"]
    second = ok(
        client.get(ARTICLES, query_string={"limit": 2, "cursor": cursor}, headers=member.headers)
    )

    assert [i["id"] for i in first["items"] + second["items"]] == ids[::-1]
    assert first["page"]["total"] == 3 and second["page"]["next_cursor"] is None
