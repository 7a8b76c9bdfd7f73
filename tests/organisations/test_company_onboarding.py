"""A company's onboarding (issue 26, item 2): activation waits for the owner's acceptance of
the house rules for the company, its insurance certificate (an image or a PDF, read through a
short-lived URL by its owners and staff) and a CM's decision on its business checks; a
technician's own onboarding stays theirs. And the levels view (item 5): each member's own
standing side by side with the company's aggregates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.core.files.models import StoredFile
from crowd.extensions import db
from members.models import Member, MemberSkill, MemberStats, Skill, SkillCategory
from mentoring.models import TopPerformerBadge
from organisations.models import Organisation
from tests.factories import make_actor
from tests.files_helpers import fetch, pdf, png, upload
from tests.jobs.conftest import active_member
from tests.organisations.helpers import (
    API,
    OWN,
    PROBLEM,
    accept,
    company_with,
    invite,
    register,
    token_from_email,
)


def _problem(response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.content_type == PROBLEM
    if slug:
        assert response.json["type"].endswith(f"/{slug}"), response.json
    return response.json


def _activate(client, staff, organisation_id: int):
    return client.post(f"{API}/organisations/{organisation_id}/activate", headers=staff.headers)


def _decide(client, staff, organisation_id: int, decision: str = "verified", note=None):
    return client.post(
        f"{API}/organisations/{organisation_id}/checks/decision",
        json={"decision": decision, "note": note},
        headers=staff.headers,
    )


def _publish_house_rules(client, admin) -> int:
    response = client.post(
        f"{API}/house-rules",
        json={"title": "House rules", "body": "Be on time. Be kind."},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.json["version"]


def _certificate(client, owner, data: bytes, content_type: str) -> int:
    confirmed = upload(client, owner, data, content_type, purpose="insurance_certificate")
    assert confirmed.status_code == 200, confirmed.get_json()
    return confirmed.json["id"]


def _set_certificate(client, owner, file_id: int):
    return client.put(
        f"{OWN}/insurance-certificate", json={"file_id": file_id}, headers=owner.headers
    )


# --- the story --------------------------------------------------------------------------------


def test_activation_waits_for_house_rules_insurance_certificate_and_the_decision(
    client, app, cm, admin
):
    version = _publish_house_rules(client, admin)
    owner = make_actor("member")
    company = register(client, owner)
    assert company["checks"]["missing"] == [
        "house_rules",
        "insurance_certificate",
        "checks_verified",
    ]
    refused = _problem(_activate(client, cm, company["id"]), 409, "organisation-checks-missing")
    assert refused["missing"] == ["house_rules", "insurance_certificate", "checks_verified"]

    # (a) the owner accepts the house rules for the company: the version in force only.
    outdated = client.post(
        f"{OWN}/house-rules/accept", json={"version": version + 1}, headers=owner.headers
    )
    assert _problem(outdated, 409, "organisation-house-rules-outdated")["current_version"] == (
        version
    )
    accepted = client.post(
        f"{OWN}/house-rules/accept", json={"version": version}, headers=owner.headers
    )
    assert accepted.status_code == 200, accepted.get_json()
    rules = accepted.json["checks"]["house_rules"]
    assert (rules["accepted_version"], rules["accepted_by_member_id"]) == (
        version,
        owner.profile_id,
    )
    assert rules["accepted_at"]
    again = client.post(
        f"{OWN}/house-rules/accept", json={"version": version}, headers=owner.headers
    )
    assert again.json["checks"]["house_rules"]["accepted_at"] == rules["accepted_at"]
    assert _activate(client, cm, company["id"]).json["missing"] == [
        "insurance_certificate",
        "checks_verified",
    ]

    # (b) nothing to verify without a certificate; then the owner uploads one as a PDF.
    _problem(_decide(client, cm, company["id"]), 409, "organisation-state-conflict")
    file_id = _certificate(client, owner, pdf(), "application/pdf")
    assert db.session.get(StoredFile, file_id).content_type == "application/pdf"
    set_ = _set_certificate(client, owner, file_id)
    assert set_.status_code == 200, set_.get_json()
    assert set_.json["insurance_file_id"] == file_id
    assert set_.json["checks"]["missing"] == ["checks_verified"]
    assert _activate(client, cm, company["id"]).json["missing"] == ["checks_verified"]

    # The CM reads it through a short-lived URL, and so does the owner.
    for reader in (cm, owner):
        read = client.get(
            f"{API}/organisations/{company['id']}/insurance-certificate", headers=reader.headers
        )
        assert read.status_code == 200, read.get_json()
        status, body, headers = fetch(client, read.json["url"])
        assert status == 200 and body.startswith(b"%PDF")
        assert read.json["expires_at"]

    # (c) a rejection is recorded and activation still waits; a verification lets it through.
    rejected = _decide(client, cm, company["id"], "rejected", "The policy has expired.")
    assert rejected.status_code == 200, rejected.get_json()
    assert rejected.json["decision"]["decision"] == "rejected"
    assert rejected.json["missing"] == ["checks_verified"]
    _problem(_activate(client, cm, company["id"]), 409, "organisation-checks-missing")
    verified = _decide(client, cm, company["id"]).json["decision"]
    assert (verified["decision"], verified["decided_by_user_id"]) == ("verified", cm.user_id)
    assert verified["decided_at"] and verified["note"] is None
    active = _activate(client, cm, company["id"])
    assert active.status_code == 200, active.get_json()
    assert (active.json["status"], active.json["checks"]["missing"]) == ("active", [])


def test_a_new_certificate_asks_for_a_new_decision_and_deletes_the_old_one(client, app, cm):
    owner = make_actor("member")
    company = register(client, owner)
    first = _certificate(client, owner, png(), "image/png")
    assert _set_certificate(client, owner, first).status_code == 200
    assert _decide(client, cm, company["id"]).status_code == 200
    second = _certificate(client, owner, pdf(), "application/pdf")
    changed = _set_certificate(client, owner, second)
    assert changed.json["checks"]["decision"]["decision"] is None
    assert changed.json["checks"]["missing"] == ["checks_verified"]
    db.session.expire_all()
    assert db.session.get(StoredFile, first).status == "deleted"
    # The same file again changes nothing.
    assert _set_certificate(client, owner, second).status_code == 200


def test_without_published_house_rules_the_step_is_not_required(client, app, cm):
    owner = make_actor("member")
    company = register(client, owner)
    assert company["checks"]["house_rules"]["required"] is False
    nothing = client.post(f"{OWN}/house-rules/accept", json={"version": 1}, headers=owner.headers)
    _problem(nothing, 404)
    assert company["checks"]["missing"] == ["insurance_certificate", "checks_verified"]


# --- who may ----------------------------------------------------------------------------------


def test_only_the_owner_accepts_and_uploads_and_only_owners_and_staff_read(
    client, app, cm, admin, customer
):
    version = _publish_house_rules(client, admin)
    owner, dispatcher, technician = (make_actor("member") for _ in range(3))
    organisation_id = company_with(
        client, app, cm, owner, dispatcher=dispatcher, technician=technician
    )
    for actor in (dispatcher, technician):
        refused = client.post(
            f"{OWN}/house-rules/accept", json={"version": version}, headers=actor.headers
        )
        _problem(refused, 403)
        # Their own upload of the purpose, refused as the company's certificate.
        own_file = _certificate(client, actor, png(), "image/png")
        _problem(_set_certificate(client, actor, own_file), 403)
    # The owner cannot pass off someone else's file, nor a file of another purpose.
    _problem(_set_certificate(client, owner, own_file), 422)
    photo = upload(client, owner, png(), "image/png").json["id"]
    _problem(_set_certificate(client, owner, photo), 422)
    # Reading the certificate: owners and staff; colleagues and outsiders get 404, customers 403.
    url = f"{API}/organisations/{organisation_id}/insurance-certificate"
    stranger = make_actor("member")
    for actor in (dispatcher, technician, stranger):
        _problem(client.get(url, headers=actor.headers), 404)
    _problem(client.get(url, headers=customer.headers), 403)
    for actor in (owner, cm, admin):
        assert client.get(url, headers=actor.headers).status_code == 200
    # The decision is staff's.
    _problem(_decide(client, owner, organisation_id), 403)
    unknown = f"{API}/organisations/999999/insurance-certificate"
    _problem(client.get(unknown, headers=cm.headers), 404)


def test_a_customer_cannot_upload_an_insurance_certificate(client, customer):
    response = client.post(
        f"{API}/files",
        json={"purpose": "insurance_certificate", "content_type_hint": "image/png", "size": 10},
        headers=customer.headers,
    )
    _problem(response, 422)


def test_a_technicians_verified_skills_are_theirs_and_stay_when_they_leave(client, app, cm):
    owner = make_actor("member")
    technician = active_member(skills=("tv_wall_mount",), verified=False)
    organisation_id = register(client, owner)["id"]
    # Joining the company skips nothing of the member's own onboarding.
    assert invite(client, owner, technician.email).status_code == 201
    assert accept(client, technician, token_from_email(app, technician.email)).status_code == 200
    verify = f"{API}/members/{technician.profile_id}/skills/tv_wall_mount/verify"
    assert client.post(verify, headers=cm.headers).status_code == 200
    assert db.session.get(Organisation, organisation_id).status == "pending"
    left = client.post(f"{OWN}/leave", headers=technician.headers)
    assert left.status_code == 204, left.get_json()
    db.session.expire_all()
    skill = db.session.scalar(select(Skill).where(Skill.slug == "tv_wall_mount"))
    kept = db.session.scalars(
        select(MemberSkill).where(
            MemberSkill.member_id == technician.profile_id, MemberSkill.skill_id == skill.id
        )
    ).one()
    assert kept.verified


# --- the levels view --------------------------------------------------------------------------


def _standing(member_id: int, *, level: int, jobs: int, ratings: list[int]) -> None:
    stats = db.session.get(MemberStats, member_id) or MemberStats(member_id=member_id)
    stats.jobs_completed = jobs
    stats.rating_count, stats.rating_sum = len(ratings), sum(ratings)
    db.session.add(stats)
    db.session.get(Member, member_id).level_rank = level
    db.session.commit()


def test_the_levels_view_shows_each_technician_and_the_companys_aggregates(client, app, cm, admin):
    owner = active_member()
    dispatcher, first, second = active_member(), active_member(), active_member()
    organisation_id = company_with(
        client, app, cm, owner, dispatcher=dispatcher, technician=first, technician2=second
    )
    _standing(owner.profile_id, level=2, jobs=0, ratings=[])
    _standing(dispatcher.profile_id, level=1, jobs=0, ratings=[])
    _standing(first.profile_id, level=2, jobs=30, ratings=[5, 5, 4, 5])  # 4.75
    _standing(second.profile_id, level=1, jobs=10, ratings=[4, 4, 3, 3])  # 3.5
    run = client.post(f"{API}/top-performer-runs", json={}, headers=cm.headers)
    assert run.status_code == 201, run.get_json()
    category = db.session.scalar(select(SkillCategory).where(SkillCategory.slug == "tv_audio"))
    db.session.add(
        TopPerformerBadge(
            run_id=run.json["id"],
            member_id=first.profile_id,
            category_id=category.id,
            region="DE",
            valid_from=utcnow() - timedelta(days=1),
            valid_until=utcnow() + timedelta(days=90),
        )
    )
    db.session.commit()

    staff_view = client.get(f"{API}/organisations/{organisation_id}/levels", headers=cm.headers)
    assert staff_view.status_code == 200, staff_view.get_json()
    rows = {row["member_id"]: row for row in staff_view.json["technicians"]}
    assert set(rows) == {m.profile_id for m in (owner, dispatcher, first, second)}
    top = rows[first.profile_id]
    assert (top["level_rank"], top["rating"], top["jobs_completed"], top["top_performer"]) == (
        2,
        4.75,
        30,
        True,
    )
    assert top["badges"][0]["category"] == "tv_audio"
    assert rows[second.profile_id]["top_performer"] is False
    assert rows[owner.profile_id]["rating"] is None
    aggregates = staff_view.json["aggregates"]
    assert aggregates["technicians"] == 4
    assert [(lv["level_rank"], lv["count"]) for lv in aggregates["levels"]] == [(1, 2), (2, 2)]
    # (4.75 × 30 + 3.5 × 10) / 40
    assert aggregates["average_rating"] == 4.44
    assert (aggregates["jobs_completed"], aggregates["top_performers"]) == (40, 1)

    # The company's owners and dispatchers see the same; a technician and outsiders do not.
    for actor in (owner, dispatcher):
        own = client.get(f"{OWN}/levels", headers=actor.headers)
        assert own.status_code == 200 and own.json == staff_view.json
    _problem(client.get(f"{OWN}/levels", headers=first.headers), 403)
    _problem(client.get(f"{OWN}/levels", headers=make_actor("member").headers), 404)
    staff_url = f"{API}/organisations/{organisation_id}/levels"
    _problem(client.get(staff_url, headers=owner.headers), 403)
    _problem(client.get(f"{API}/organisations/999999/levels", headers=admin.headers), 404)

    # A technician who leaves takes their standing with them: the company's figures drop.
    assert client.post(f"{OWN}/leave", headers=first.headers).status_code == 204
    after = client.get(f"{OWN}/levels", headers=owner.headers).json["aggregates"]
    assert (after["technicians"], after["jobs_completed"], after["average_rating"]) == (3, 10, 3.5)
