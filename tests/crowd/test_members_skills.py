"""Claiming skills, and community managers verifying them."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members.models import MemberSkill, Skill

SKILLS = "/api/v1/me/member/skills"


def _problem(response, status):
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    return response.json


def _claim(client, actor, *claims):
    body = {"skills": [{"skill": slug, "proficiency": level} for slug, level in claims]}
    return client.put(SKILLS, json=body, headers=actor.headers)


def _verify_url(actor, slug):
    return f"/api/v1/members/{actor.profile_id}/skills/{slug}/verify"


def _stored_claim(actor, slug) -> MemberSkill:
    skill_id = db.session.scalar(select(Skill.id).where(Skill.slug == slug))
    return db.session.get(MemberSkill, (actor.profile_id, skill_id))


def _skills_of(client, actor):
    profile = client.get("/api/v1/me/member", headers=actor.headers).json
    return {claim["skill"]: claim for claim in profile["skills"]}


def test_member_claims_skills_and_reads_them_back(client, member):
    response = _claim(client, member, ("tv_wall_mount", 3), ("router_config", 1))
    assert response.status_code == 200, response.json
    assert {c["skill"] for c in response.json["skills"]} == {"tv_wall_mount", "router_config"}
    skills = _skills_of(client, member)
    assert skills["tv_wall_mount"]["proficiency"] == 3
    assert skills["tv_wall_mount"]["category"] == "tv_audio"
    assert skills["tv_wall_mount"]["service"] == "installation"
    assert skills["router_config"]["verified"] is False


def test_proficiency_defaults_to_basic(client, member):
    body = {"skills": [{"skill": "console_setup"}]}
    response = client.put(SKILLS, json=body, headers=member.headers)
    assert response.json["skills"][0]["proficiency"] == 1


def test_replacing_skills_drops_those_not_sent(client, member):
    _claim(client, member, ("tv_wall_mount", 2), ("router_config", 1))
    _claim(client, member, ("router_config", 2))
    assert set(_skills_of(client, member)) == {"router_config"}


def test_empty_list_clears_all_skills(client, member):
    _claim(client, member, ("tv_wall_mount", 2))
    assert _claim(client, member).status_code == 200
    assert _skills_of(client, member) == {}


def test_unknown_skill_slug_is_422_naming_it(client, member):
    _claim(client, member, ("tv_wall_mount", 2))
    response = _claim(client, member, ("tv_wall_mount", 2), ("juggling", 1))
    body = _problem(response, 422)
    assert body["errors"]["json"]["skills"] == {"1": {"skill": ["unknown skill 'juggling'"]}}
    assert "juggling" in body["detail"]
    assert set(_skills_of(client, member)) == {"tv_wall_mount"}


def test_duplicate_skills_are_422(client, member):
    body = _problem(_claim(client, member, ("tv_wall_mount", 2), ("tv_wall_mount", 3)), 422)
    assert "tv_wall_mount" in body["errors"]["json"]["skills"][0]


@pytest.mark.parametrize("proficiency", [0, 4, "2", None])
def test_proficiency_outside_1_to_3_is_422(client, member, proficiency):
    body = {"skills": [{"skill": "tv_wall_mount", "proficiency": proficiency}]}
    problem = _problem(client.put(SKILLS, json=body, headers=member.headers), 422)
    assert "proficiency" in problem["errors"]["json"]["skills"]["0"]


def test_skills_body_is_required(client, member):
    problem = _problem(client.put(SKILLS, json={}, headers=member.headers), 422)
    assert "skills" in problem["errors"]["json"]


def test_skills_are_for_members_only(client, customer, cm):
    _problem(client.put(SKILLS, json={"skills": []}), 401)
    _problem(client.put(SKILLS, json={"skills": []}, headers=customer.headers), 403)
    _problem(client.put(SKILLS, json={"skills": []}, headers=cm.headers), 403)


# --- verification ---------------------------------------------------------------------------


def test_cm_verifies_a_claimed_skill(client, member, cm):
    _claim(client, member, ("washing_machine_install", 2))
    response = client.post(_verify_url(member, "washing_machine_install"), headers=cm.headers)
    assert response.status_code == 200, response.json
    claim = _skills_of(client, member)["washing_machine_install"]
    assert claim["verified"] is True
    assert claim["verified_by_id"] == cm.user_id
    assert claim["verified_at"] is not None


def test_admin_may_verify_too(client, member, admin):
    _claim(client, member, ("wallbox_install", 3))
    response = client.post(_verify_url(member, "wallbox_install"), headers=admin.headers)
    assert response.json["verified_by_id"] == admin.user_id


def test_verifying_again_keeps_the_first_verification(client, member, cm, admin):
    _claim(client, member, ("wallbox_install", 3))
    first = client.post(_verify_url(member, "wallbox_install"), headers=cm.headers).json
    again = client.post(_verify_url(member, "wallbox_install"), headers=admin.headers).json
    assert again["verified_by_id"] == cm.user_id
    assert again["verified_at"] == first["verified_at"]


def test_unverify_clears_the_verification(client, member, cm):
    _claim(client, member, ("wallbox_install", 3))
    client.post(_verify_url(member, "wallbox_install"), headers=cm.headers)
    response = client.delete(_verify_url(member, "wallbox_install"), headers=cm.headers)
    assert response.status_code == 200
    claim = _skills_of(client, member)["wallbox_install"]
    assert (claim["verified"], claim["verified_by_id"], claim["verified_at"]) == (False, None, None)


def test_verifying_a_skill_the_member_does_not_claim_is_404(client, member, cm):
    _claim(client, member, ("tv_wall_mount", 2))
    _problem(client.post(_verify_url(member, "wallbox_install"), headers=cm.headers), 404)
    _problem(client.post(_verify_url(member, "no_such_skill"), headers=cm.headers), 404)
    _problem(client.delete(_verify_url(member, "wallbox_install"), headers=cm.headers), 404)


def test_verifying_for_an_unknown_member_is_404(client, cm):
    url = "/api/v1/members/999999/skills/tv_wall_mount/verify"
    _problem(client.post(url, headers=cm.headers), 404)


def test_members_and_customers_cannot_verify(client, member, customer):
    _claim(client, member, ("wallbox_install", 3))
    url = _verify_url(member, "wallbox_install")
    _problem(client.post(url), 401)
    _problem(client.post(url, headers=member.headers), 403)
    _problem(client.post(url, headers=customer.headers), 403)
    _problem(client.delete(url, headers=member.headers), 403)
    assert _stored_claim(member, "wallbox_install").verified is False


def test_kept_skill_keeps_verification_when_proficiency_changes(client, member, cm):
    _claim(client, member, ("wallbox_install", 1), ("tv_wall_mount", 2))
    client.post(_verify_url(member, "wallbox_install"), headers=cm.headers)
    response = _claim(client, member, ("wallbox_install", 3), ("router_config", 1))
    assert response.status_code == 200
    skills = _skills_of(client, member)
    assert set(skills) == {"wallbox_install", "router_config"}
    assert skills["wallbox_install"]["verified"] is True
    assert skills["wallbox_install"]["verified_by_id"] == cm.user_id
    assert skills["wallbox_install"]["proficiency"] == 3
    assert skills["router_config"]["verified"] is False


def test_dropped_and_reclaimed_skill_must_be_verified_again(client, member, cm):
    _claim(client, member, ("wallbox_install", 2))
    client.post(_verify_url(member, "wallbox_install"), headers=cm.headers)
    _claim(client, member, ("tv_wall_mount", 2))
    _claim(client, member, ("wallbox_install", 2))
    assert _skills_of(client, member)["wallbox_install"]["verified"] is False


def test_skills_of_one_member_do_not_touch_another(client, member, other_member, cm):
    _claim(client, member, ("wallbox_install", 2))
    _claim(client, other_member, ("wallbox_install", 2))
    client.post(_verify_url(member, "wallbox_install"), headers=cm.headers)
    _claim(client, other_member)
    assert _skills_of(client, member)["wallbox_install"]["verified"] is True
    assert _skills_of(client, other_member) == {}
