"""Topic groups: staff create, edit and archive them; members discover, join and leave the
groups they qualify for (skill, region, programme, level, status)."""

import pytest
from sqlalchemy import select

from community.models import ModerationAction, TopicGroup
from crowd.extensions import db
from members.models import Member
from mentoring.models import MentorProfile, Mentorship
from tests.community.conftest import (
    API,
    create_group,
    join,
    ok,
    post_thread,
    problem,
    skill_id,
)
from tests.jobs.conftest import active_member
from tests.mentoring.test_events import give_badge


def _create(client, cm, **body):
    return client.post(f"{API}/topic-groups", json=body, headers=cm.headers)


def _ids(page: dict) -> list[int]:
    return [g["id"] for g in page["items"]]


# --- staff manage groups --------------------------------------------------------------------------


def test_a_cm_creates_a_skill_group(client, cm):
    group = create_group(client, cm, slug="tv-mounting", requires_verified_skill=True)
    assert group["kind"] == "skill" and group["skill_slug"] == "tv_wall_mount"
    assert group["member_count"] == 0 and group["archived_at"] is None
    assert group["joined"] is None and group["can_moderate"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "skill"}, "skill_id"),
        ({"kind": "region"}, "country"),
        ({"kind": "programme"}, "programme"),
        ({"kind": "skill", "skill_id": 999_999}, "skill_id"),
        ({"kind": "skill", "skill_id": "SKILL", "country": "DE"}, "country"),
        ({"kind": "region", "country": "DE", "programme": "mentors"}, "programme"),
        ({"kind": "programme", "programme": "mentors", "requires_verified_skill": True}, None),
        ({"kind": "region", "country": "AT", "postcode_prefix": "10117"}, "postcode_prefix"),
        ({"kind": "region", "country": "DE", "postcode_prefix": "1a"}, "postcode_prefix"),
        ({"kind": "region", "country": "FR"}, "country"),
        ({"kind": "programme", "programme": "alumni"}, "programme"),
        ({"kind": "skill", "skill_id": "SKILL", "min_level_rank": -1}, "min_level_rank"),
        ({"kind": "skill", "skill_id": "SKILL", "slug": "Not A Slug"}, "slug"),
        ({"kind": "skill", "skill_id": "SKILL", "name": " "}, "name"),
        ({"kind": "skill", "skill_id": "SKILL", "surprise": 1}, "surprise"),
    ],
)
def test_a_group_that_does_not_fit_its_kind_is_422_naming_the_field(client, cm, body, field):
    body = {"slug": "a-group", "name": "A group", **body}
    if body.get("skill_id") == "SKILL":
        body["skill_id"] = skill_id()
    errors = problem(_create(client, cm, **body), 422)["errors"]["json"]
    assert (field or "requires_verified_skill") in errors


def test_a_taken_slug_is_409(client, cm):
    create_group(client, cm, slug="tv-mounting")
    response = _create(client, cm, slug="tv-mounting", name="Again", kind="region", country="DE")
    assert problem(response, 409)["state"] == "exists"
    assert response.json["type"] == "https://crowd.example/problems/group-slug-taken"


def test_only_staff_create_groups(client, member, customer):
    body = {"slug": "x", "name": "X", "kind": "region", "country": "DE"}
    problem(_create(client, member, **body), 403)
    problem(_create(client, customer, **body), 403)


def test_a_cm_edits_a_group_but_not_its_kind(client, cm):
    group = create_group(client, cm)
    url = f"{API}/topic-groups/{group['id']}"
    edited = ok(
        client.patch(url, json={"name": "Wall mounts", "min_level_rank": 2}, headers=cm.headers)
    )
    assert edited["name"] == "Wall mounts" and edited["min_level_rank"] == 2
    problem(client.patch(url, json={"kind": "region"}, headers=cm.headers), 422)
    errors = problem(client.patch(url, json={"skill_id": None}, headers=cm.headers), 422)
    assert "skill_id" in errors["errors"]["json"]
    problem(client.patch(url, json={}, headers=cm.headers), 422)


def test_an_archived_group_is_read_only(client, cm):
    group = create_group(client, cm)
    insider = active_member()
    join(client, insider, group["id"])
    url = f"{API}/topic-groups/{group['id']}"
    archived = ok(client.post(f"{url}/archive", json={"reason": "Merged"}, headers=cm.headers))
    assert archived["archived_at"] is not None
    assert problem(client.post(f"{url}/archive", json={}, headers=cm.headers), 409)["state"] == (
        "archived"
    )
    problem(client.patch(url, json={"name": "New"}, headers=cm.headers), 409)
    assert problem(post_thread(client, insider, group["id"]), 409)["state"] == "archived"
    assert join(client, active_member(), group["id"], 409)["state"] == "archived"
    # Its members still read it; it is gone from discovery for everyone else.
    ok(client.get(f"{url}/threads", headers=insider.headers))
    problem(client.get(url, headers=active_member().headers), 404)
    logged = db.session.scalars(select(ModerationAction.action)).all()
    assert "archive_group" in logged


# --- discovery ------------------------------------------------------------------------------------


def test_members_see_groups_they_qualify_for_or_belong_to_with_flags(client, cm):
    mine = create_group(client, cm, name="A mine")
    open_ = create_group(client, cm, name="B open")
    hidden = create_group(client, cm, name="C other skill", skill_id=skill_id("pc_setup_new"))
    archived = create_group(client, cm, name="D archived")
    ok(client.post(f"{API}/topic-groups/{archived['id']}/archive", json={}, headers=cm.headers))
    someone = active_member()
    join(client, someone, mine["id"])

    page = ok(client.get(f"{API}/topic-groups", headers=someone.headers))
    assert _ids(page) == [mine["id"], open_["id"]]
    flags = {g["id"]: (g["joined"], g["qualifies"]) for g in page["items"]}
    assert flags == {mine["id"]: (True, True), open_["id"]: (False, True)}
    joined = ok(client.get(f"{API}/topic-groups?joined=true", headers=someone.headers))
    assert _ids(joined) == [mine["id"]]
    problem(client.get(f"{API}/topic-groups/{hidden['id']}", headers=someone.headers), 404)

    staff_view = ok(client.get(f"{API}/topic-groups", headers=cm.headers))
    assert {mine["id"], open_["id"], hidden["id"], archived["id"]} <= set(_ids(staff_view))
    only_archived = ok(client.get(f"{API}/topic-groups?archived=true", headers=cm.headers))
    assert _ids(only_archived) == [archived["id"]]


def test_a_member_who_left_an_archived_group_no_longer_sees_it(client, cm):
    group = create_group(client, cm)
    someone = active_member()
    join(client, someone, group["id"])
    ok(client.post(f"{API}/topic-groups/{group['id']}/archive", json={}, headers=cm.headers))
    seen = ok(client.get(f"{API}/topic-groups?archived=true", headers=someone.headers))
    assert _ids(seen) == [group["id"]]
    left = ok(client.post(f"{API}/topic-groups/{group['id']}/leave", headers=someone.headers))
    assert left["joined"] is False and left["member_count"] == 0
    problem(client.get(f"{API}/topic-groups/{group['id']}", headers=someone.headers), 404)


def test_customers_are_refused_the_members_space(client, cm, customer):
    group = create_group(client, cm)
    problem(client.get(f"{API}/topic-groups", headers=customer.headers), 403)
    problem(client.get(f"{API}/topic-groups/{group['id']}", headers=customer.headers), 403)
    problem(client.post(f"{API}/topic-groups/{group['id']}/join", headers=customer.headers), 403)


def test_filter_by_kind(client, cm):
    create_group(client, cm)
    region = create_group(client, cm, kind="region", skill_id=None, country="DE")
    page = ok(client.get(f"{API}/topic-groups?kind=region", headers=cm.headers))
    assert _ids(page) == [region["id"]]


# --- joining and qualification --------------------------------------------------------------------


def test_joining_counts_once_and_leaving_uncounts(client, cm):
    group = create_group(client, cm)
    someone = active_member()
    assert join(client, someone, group["id"])["member_count"] == 1
    again = join(client, someone, group["id"])
    assert again["member_count"] == 1 and again["joined"] is True
    url = f"{API}/topic-groups/{group['id']}/leave"
    assert ok(client.post(url, headers=someone.headers))["member_count"] == 0
    assert ok(client.post(url, headers=someone.headers))["member_count"] == 0


def test_a_verified_skill_is_required_when_the_group_says_so(client, cm):
    strict = create_group(client, cm, requires_verified_skill=True)
    lenient = create_group(client, cm)
    claimed = active_member(verified=False)
    failed = join(client, claimed, strict["id"], 403)
    assert failed["reason"] == "skill" and "verified skill" in failed["detail"]
    join(client, claimed, lenient["id"])
    assert join(client, active_member(skills=("pc_setup_new",)), lenient["id"], 403)["reason"] == (
        "skill"
    )


def test_a_level_rank_below_the_groups_is_refused(client, cm):
    group = create_group(client, cm, min_level_rank=3)
    failed = join(client, active_member(level_rank=2), group["id"], 403)
    assert failed["reason"] == "level" and "rank 3" in failed["detail"]
    join(client, active_member(level_rank=3), group["id"])


def test_only_active_members_join(client, cm):
    group = create_group(client, cm)
    paused = active_member()
    ok(client.post(f"{API}/me/member/status", json={"action": "pause"}, headers=paused.headers))
    assert join(client, paused, group["id"], 403)["reason"] == "status"
    applicant = active_member()
    db.session.get(Member, applicant.profile_id).status = "applicant"
    db.session.commit()
    assert join(client, applicant, group["id"], 403)["reason"] == "status"


def test_region_groups_match_country_postcode_prefix_and_city(client, cm):
    berlin = create_group(
        client, cm, kind="region", skill_id=None, country="DE", postcode_prefix="101", city="berlin"
    )
    hamburg = create_group(client, cm, kind="region", skill_id=None, country="DE", city="Hamburg")
    vienna = create_group(client, cm, kind="region", skill_id=None, country="AT")
    someone = active_member()  # 10117 Berlin, DE
    join(client, someone, berlin["id"])
    assert join(client, someone, hamburg["id"], 403)["reason"] == "region"
    assert "AT" in join(client, someone, vienna["id"], 403)["detail"]
    elsewhere = active_member()
    db.session.get(Member, elsewhere.profile_id).postcode = "12043"
    db.session.commit()
    assert join(client, elsewhere, berlin["id"], 403)["reason"] == "region"


def _programme_group(client, cm, programme):
    return create_group(client, cm, kind="programme", skill_id=None, programme=programme)


def test_programme_groups_take_mentors_mentees_and_top_performers(client, cm):
    mentors = _programme_group(client, cm, "mentors")
    mentees = _programme_group(client, cm, "mentees")
    tops = _programme_group(client, cm, "top_performers")
    coach, newbie, star, nobody = (active_member() for _ in range(4))
    db.session.add(MentorProfile(member_id=coach.profile_id, opted_in=True, countries=["DE"]))
    db.session.add(
        Mentorship(
            mentor_id=coach.profile_id, mentee_id=newbie.profile_id, status="active", origin="staff"
        )
    )
    give_badge(star.profile_id)
    db.session.commit()

    join(client, coach, mentors["id"])
    join(client, newbie, mentees["id"])
    join(client, star, tops["id"])
    for group in (mentors, mentees, tops):
        assert join(client, nobody, group["id"], 403)["reason"] == "programme"
    assert join(client, newbie, mentors["id"], 403)["reason"] == "programme"


def test_an_expired_or_revoked_badge_does_not_qualify(client, cm):
    tops = _programme_group(client, cm, "top_performers")
    revoked = active_member()
    give_badge(revoked.profile_id, revoked=True)
    db.session.commit()
    assert join(client, revoked, tops["id"], 403)["reason"] == "programme"


def test_members_keep_their_membership_when_the_rules_change(client, cm):
    group = create_group(client, cm)
    someone = active_member(level_rank=1)
    join(client, someone, group["id"])
    url = f"{API}/topic-groups/{group['id']}"
    ok(client.patch(url, json={"min_level_rank": 4}, headers=cm.headers))
    seen = ok(client.get(url, headers=someone.headers))
    assert seen["joined"] is True and seen["qualifies"] is False
    ok(post_thread(client, someone, group["id"]), 201)
    assert db.session.get(TopicGroup, group["id"]).member_count == 1


def test_a_qualifying_member_sees_a_group_before_joining(client, cm):
    group = create_group(client, cm)
    someone = active_member()
    seen = ok(client.get(f"{API}/topic-groups/{group['id']}", headers=someone.headers))
    assert (seen["joined"], seen["qualifies"], seen["can_moderate"]) == (False, True, False)
