"""The community managers' member list: filters, lean rows and keyset pagination."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members import service
from members.models import Member, MemberSkill, Skill
from tests.factories import make_actor

MEMBERS = "/api/v1/members"


def _problem(response, status):
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    return response.json


def _member(name, *, status="active", level=0, skills=(), **place):
    """A member set up directly in the database (the list is what is under test)."""
    actor = make_actor("member", display_name=name, **place)
    member = db.session.get(Member, actor.profile_id)
    member.status, member.level_rank = status, level
    for slug in skills:
        skill = db.session.scalar(select(Skill).where(Skill.slug == slug))
        member.skills.append(MemberSkill(skill_id=skill.id, skill=skill, proficiency=2))
    db.session.commit()
    return actor


@pytest.fixture
def crowd():
    """A small crowd across DACH with different skills, levels and statuses."""
    return {
        "anna": _member(
            "Anna Berger",
            skills=["tv_wall_mount", "router_config"],
            level=2,
            city="Berlin",
            country="DE",
            postcode="10115",
        ),
        "ben": _member(
            "Ben Huber",
            skills=["tv_wall_mount"],
            level=1,
            city="Wien",
            country="AT",
            postcode="1010",
        ),
        "carla": _member(
            "Carla Meier",
            skills=["wallbox_install"],
            level=3,
            status="paused",
            city="Zürich",
            country="CH",
            postcode="8001",
        ),
        "dirk": _member(
            "Dirk Bergmann", status="applicant", city="berlin", country="DE", postcode="10999"
        ),
        "emil": _member(
            "Emil 100% Sicher",
            skills=["router_config"],
            city="München",
            country="DE",
            postcode="80331",
        ),
    }


def _names(client, cm, **query):
    response = client.get(MEMBERS, query_string=query, headers=cm.headers)
    assert response.status_code == 200, response.json
    return sorted(item["display_name"].split()[0] for item in response.json["items"])


def test_member_list_needs_a_community_manager_or_admin(client, member, customer, admin):
    _problem(client.get(MEMBERS), 401)
    _problem(client.get(MEMBERS, headers=member.headers), 403)
    _problem(client.get(MEMBERS, headers=customer.headers), 403)
    assert client.get(MEMBERS, headers=admin.headers).status_code == 200


def test_member_list_rows_are_lean(client, cm):
    anna = _member(
        "Anna Berger",
        skills=["tv_wall_mount", "router_config"],
        level=2,
        city="Berlin",
        country="DE",
        postcode="10115",
    )
    service.record_job_completed(anna.profile_id)
    service.record_rating(anna.profile_id, stars=5)
    db.session.commit()
    page = client.get(MEMBERS, headers=cm.headers).json
    assert page["items"] == [
        {
            "id": anna.profile_id,
            "display_name": "Anna Berger",
            "kind": "private",
            "status": "active",
            "city": "Berlin",
            "country": "DE",
            "level_rank": 2,
            "skills": ["tv_wall_mount", "router_config"],
            "average_rating": 5.0,
            "jobs_completed": 1,
        }
    ]
    assert page["page"]["total"] == 1


def test_member_list_without_filters_shows_everyone(client, cm, crowd):
    assert _names(client, cm) == ["Anna", "Ben", "Carla", "Dirk", "Emil"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"skill": "tv_wall_mount"}, ["Anna", "Ben"]),
        ({"skill": "router_config"}, ["Anna", "Emil"]),
        ({"skill": "dishwasher_install"}, []),
        ({"status": "paused"}, ["Carla"]),
        ({"status": "applicant"}, ["Dirk"]),
        ({"country": "DE"}, ["Anna", "Dirk", "Emil"]),
        ({"city": "BERLIN"}, ["Anna", "Dirk"]),
        ({"postcode_prefix": "10"}, ["Anna", "Ben", "Dirk"]),
        ({"postcode_prefix": "109"}, ["Dirk"]),
        ({"min_level": 2}, ["Anna", "Carla"]),
        ({"q": "berg"}, ["Anna", "Dirk"]),
        ({"q": "%"}, ["Emil"]),
        ({"q": "_"}, []),
        ({"country": "DE", "skill": "router_config", "min_level": 1}, ["Anna"]),
        ({"status": "active", "city": "berlin"}, ["Anna"]),
    ],
)
def test_member_list_filters(client, cm, crowd, query, expected):
    assert _names(client, cm, **query) == expected


@pytest.mark.parametrize(
    "field, value",
    [
        ("skill", "juggling"),
        ("status", "retired"),
        ("country", "FR"),
        ("postcode_prefix", "AB"),
        ("min_level", -1),
        ("limit", 0),
        ("cursor", "not-a-cursor"),
    ],
)
def test_member_list_bad_query_is_422_naming_the_parameter(client, cm, field, value):
    response = client.get(MEMBERS, query_string={field: value}, headers=cm.headers)
    assert field in _problem(response, 422)["errors"]["query"]


def test_member_list_pages_walk_every_match_once(client, cm, crowd):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, "country": "DE", **({"cursor": cursor} if cursor else {})}
        page = client.get(MEMBERS, query_string=query, headers=cm.headers).json
        pages += 1
        assert page["page"]["limit"] == 2 and page["page"]["total"] == 3
        seen += [item["id"] for item in page["items"]]
        cursor = page["page"]["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    expected = [crowd[name].profile_id for name in ("anna", "dirk", "emil")]
    assert seen == sorted(expected)


def test_member_list_page_size_is_capped(client, cm, app, crowd):
    response = client.get(MEMBERS, query_string={"limit": 10_000}, headers=cm.headers)
    assert response.json["page"]["limit"] == app.config["CROWD_SETTINGS"].page_size_max
