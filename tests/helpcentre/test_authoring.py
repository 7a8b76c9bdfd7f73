"""Staff write the help centre: categories, articles in draft, versions, publish and archive."""

from __future__ import annotations

from tests.helpcentre.conftest import (
    ARTICLES,
    CATEGORIES,
    add_version,
    article_body,
    create_article,
    create_category,
    field_errors,
    ok,
    problem,
    publish,
    read,
    skill_id,
)

# --- categories -------------------------------------------------------------------------------


def test_staff_create_and_edit_categories_everyone_lists_them(client, cm, member, customer):
    second = create_category(client, cm, "payouts", name="Getting paid", position=2)
    first = create_category(client, cm, "first-steps", name="First steps", position=1)

    changed = ok(
        client.patch(f"{CATEGORIES}/{second['id']}", json={"name": "Money"}, headers=cm.headers)
    )

    assert changed == {**second, "name": "Money"}
    for reader in (member, customer):
        items = ok(client.get(CATEGORIES, headers=reader.headers))["items"]
        assert [c["slug"] for c in items] == ["first-steps", "payouts"]
    assert first["position"] == 1


def test_category_rules(client, cm, member):
    create_category(client, cm, "payouts")
    other = create_category(client, cm, "jobs")

    taken = client.post(CATEGORIES, json={"slug": "payouts", "name": "X"}, headers=cm.headers)
    assert problem(taken, 409)["state"] == "slug_taken"
    assert taken.json["type"] == "https://crowd.example/problems/category-slug-taken"
    rename = client.patch(
        f"{CATEGORIES}/{other['id']}", json={"slug": "payouts"}, headers=cm.headers
    )
    assert problem(rename, 409)["state"] == "slug_taken"
    bad = client.post(CATEGORIES, json={"slug": "Not A Slug", "name": "X"}, headers=cm.headers)
    assert "slug" in field_errors(bad)
    empty = client.patch(f"{CATEGORIES}/{other['id']}", json={}, headers=cm.headers)
    problem(empty, 422)
    problem(client.patch(f"{CATEGORIES}/999999", json={"name": "X"}, headers=cm.headers), 404)
    by_member = client.post(CATEGORIES, json={"slug": "mine", "name": "X"}, headers=member.headers)
    problem(by_member, 403)
    problem(client.get(CATEGORIES), 401)


# --- articles ---------------------------------------------------------------------------------


def test_a_new_article_is_a_draft_with_version_one(client, cm, admin):
    tv = skill_id("tv_wall_mount")
    article = create_article(
        client,
        cm,
        slug="tv-on-drywall",
        audience="everyone",
        skill_ids=[tv, tv],
        min_level_rank=1,
        max_level_rank=3,
    )

    assert article["status"] == "draft"
    assert article["slug"] == "tv-on-drywall"
    assert article["audience"] == "everyone"
    assert article["skill_ids"] == [tv]
    assert (article["min_level_rank"], article["max_level_rank"]) == (1, 3)
    assert (article["version"], article["latest_version"]) == (1, 1)
    assert article["title"] == "Mounting a TV on drywall"
    assert article["published_version_id"] is None and article["published_at"] is None
    assert (article["helpful_count"], article["not_helpful_count"]) == (0, 0)
    assert article["links"] == []
    # Another staff member reads it too, by id or by slug.
    assert read(client, admin, "tv-on-drywall")["id"] == article["id"]


def test_article_validation_names_the_field(client, cm):
    category = create_category(client, cm)["id"]

    def refused(**fields):
        body = {**article_body(category), **fields}
        return field_errors(client.post(ARTICLES, json=body, headers=cm.headers))

    assert "category_id" in refused(category_id=999_999)
    assert "skill_ids" in refused(skill_ids=[skill_id("tv_wall_mount"), 999_999])
    assert "min_level_rank" in refused(min_level_rank=3, max_level_rank=2)
    assert "max_level_rank" in refused(max_level_rank=100)
    assert "audience" in refused(audience="staff")
    assert "title" in refused(title="   ")
    assert "body" in refused(body="")
    for slug in ("Upper", "two--hyphens", "-lead", "trail-", "1234", "with space", "ä-umlaut"):
        assert "slug" in refused(slug=slug), slug
    assert "unknown" in refused(unknown="x")


def test_a_slug_in_use_is_a_409(client, cm):
    create_article(client, cm, slug="payout-days")
    second = create_article(client, cm, slug="payout-weeks")

    body = article_body(second["category_id"], slug="payout-days")
    assert problem(client.post(ARTICLES, json=body, headers=cm.headers), 409)["state"] == (
        "slug_taken"
    )
    rename = client.patch(
        f"{ARTICLES}/{second['id']}", json={"slug": "payout-days"}, headers=cm.headers
    )
    assert problem(rename, 409)["state"] == "slug_taken"


def test_staff_edit_metadata_and_replace_skills(client, cm):
    article = create_article(client, cm, skill_ids=[skill_id("tv_wall_mount")], max_level_rank=2)
    other = create_category(client, cm)["id"]
    url = f"{ARTICLES}/{article['id']}"

    changed = ok(
        client.patch(
            url,
            json={
                "category_id": other,
                "audience": "customers",
                "skill_ids": [skill_id("hifi_repair")],
                "min_level_rank": 2,
            },
            headers=cm.headers,
        )
    )

    assert changed["category_id"] == other
    assert changed["audience"] == "customers"
    assert changed["skill_ids"] == [skill_id("hifi_repair")]
    assert (changed["min_level_rank"], changed["max_level_rank"]) == (2, 2)
    # The new minimum is checked against the stored maximum.
    above = client.patch(url, json={"min_level_rank": 3}, headers=cm.headers)
    assert "min_level_rank" in field_errors(above)
    assert "category_id" in field_errors(
        client.patch(url, json={"category_id": 999_999}, headers=cm.headers)
    )
    problem(client.patch(url, json={}, headers=cm.headers), 422)
    problem(
        client.patch(f"{ARTICLES}/999999", json={"audience": "everyone"}, headers=cm.headers), 404
    )


def test_members_and_customers_cannot_write(client, cm, member, customer):
    category = create_category(client, cm)["id"]
    article = create_article(client, cm, category)
    for reader in (member, customer):
        body = article_body(category)
        problem(client.post(ARTICLES, json=body, headers=reader.headers), 403)
        url = f"{ARTICLES}/{article['id']}"
        problem(client.patch(url, json={"audience": "everyone"}, headers=reader.headers), 403)
        problem(client.post(f"{url}/publish", json={}, headers=reader.headers), 403)
        problem(
            client.post(
                f"{url}/versions", json={"title": "x", "body": "y"}, headers=reader.headers
            ),
            403,
        )
        problem(client.get(f"{url}/versions", headers=reader.headers), 403)


# --- versions and publishing ------------------------------------------------------------------


def test_publishing_shows_the_latest_version_until_another_is_published(client, cm, member):
    article = create_article(client, cm, title="First text")
    published = publish(client, cm, article["id"])
    assert published["status"] == "published"
    assert published["version"] == 1
    assert published["published_at"] is not None

    second = add_version(client, cm, article["id"], title="Second text")
    assert second["number"] == 2 and second["current"] is False
    # A new version does not reach readers until it is published.
    assert read(client, member, article["id"])["title"] == "First text"
    assert read(client, cm, article["id"])["latest_version"] == 2

    republished = publish(client, cm, article["id"])
    assert republished["version"] == 2
    assert read(client, member, article["id"])["title"] == "Second text"
    assert read(client, member, article["id"])["published_at"] >= published["published_at"]


def test_an_older_version_can_be_published_again(client, cm, member):
    article = create_article(client, cm, title="First text")
    first_id = publish(client, cm, article["id"])["version_id"]
    add_version(client, cm, article["id"], title="Second text")
    publish(client, cm, article["id"])

    rolled_back = publish(client, cm, article["id"], first_id)

    assert rolled_back["version"] == 1
    assert read(client, member, article["id"])["title"] == "First text"
    versions = ok(client.get(f"{ARTICLES}/{article['id']}/versions", headers=cm.headers))
    assert [(v["number"], v["current"]) for v in versions["items"]] == [(2, False), (1, True)]
    assert all(v["published_at"] for v in versions["items"])


def test_publishing_a_version_of_another_article_names_version_id(client, cm):
    article = create_article(client, cm)
    other = create_article(client, cm)
    url = f"{ARTICLES}/{article['id']}/publish"

    foreign = client.post(url, json={"version_id": other["version_id"]}, headers=cm.headers)

    assert "version_id" in field_errors(foreign)
    assert read(client, cm, article["id"])["status"] == "draft"


def test_publishing_the_published_version_again_changes_nothing(client, cm):
    article = create_article(client, cm)
    first = publish(client, cm, article["id"])

    assert publish(client, cm, article["id"]) == first


def test_archived_articles_vanish_for_readers_and_publishing_restores_them(client, cm, member):
    article = publish(client, cm, create_article(client, cm)["id"])["id"]
    url = f"{ARTICLES}/{article}"

    archived = ok(client.post(f"{url}/archive", headers=cm.headers))

    assert archived["status"] == "archived"
    problem(client.get(url, headers=member.headers), 404)
    assert problem(client.post(f"{url}/archive", headers=cm.headers), 409)["state"] == "archived"
    assert publish(client, cm, article)["status"] == "published"
    assert read(client, member, article)["id"] == article


def test_versions_are_numbered_in_order_and_listed_newest_first(client, cm):
    article = create_article(client, cm)
    for title in ("Two", "Three"):
        add_version(client, cm, article["id"], title=title, summary="s")

    page = ok(client.get(f"{ARTICLES}/{article['id']}/versions?limit=2", headers=cm.headers))
    rest = ok(
        client.get(
            f"{ARTICLES}/{article['id']}/versions",
            query_string={"limit": 2, "cursor": page["page"]["next_cursor"]},
            headers=cm.headers,
        )
    )

    assert [v["title"] for v in page["items"]] == ["Three", "Two"]
    assert [v["number"] for v in rest["items"]] == [1]
    assert page["page"]["total"] == 3
    problem(client.get(f"{ARTICLES}/999999/versions", headers=cm.headers), 404)
    problem(
        client.post(
            f"{ARTICLES}/999999/versions", json={"title": "x", "body": "y"}, headers=cm.headers
        ),
        404,
    )
