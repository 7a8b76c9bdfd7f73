"""The reach each skill claim carries (migration i23_reach) follows its member everywhere."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import event, select, text, update

from accounts.lifecycle import close_access
from crowd.extensions import db
from jobs.matching.eligibility import prefilter_params, prefilter_query
from jobs.matching.facts import JobFacts
from members.models import Member, MemberSkill
from tests.jobs.conftest import BERLIN, active_member
from tests.jobs.test_matching import HAMBURG, POTSDAM, candidate_ids, make_job, member_row

ME = "/api/v1/me/member"


def expected_reach(lat: float, lon: float, radius_km: int) -> tuple[float, float, float, float]:
    """The box of ix_members_reach: radius / 111.195 degrees of latitude, the longitude span
    widened by 1 %."""
    d_lat = radius_km / 111.195
    d_lon = radius_km / (111.195 * math.cos(math.radians(lat))) * 1.01
    return (lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon)


def claims_reach(member_id: int) -> dict[int, tuple]:
    """skill_id → the reach stored on the member's claim, read from the database."""
    db.session.expire_all()
    rows = db.session.execute(
        select(
            MemberSkill.skill_id,
            MemberSkill.reach_lat_lo,
            MemberSkill.reach_lat_hi,
            MemberSkill.reach_lon_lo,
            MemberSkill.reach_lon_hi,
        ).where(MemberSkill.member_id == member_id)
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def assert_reach(member_id: int, lat: float, lon: float, radius_km: int, claims: int) -> None:
    stored = claims_reach(member_id)
    assert len(stored) == claims
    for box in stored.values():
        assert box == pytest.approx(expected_reach(lat, lon, radius_km), abs=1e-9)


def test_a_new_claim_takes_its_members_reach(customer):
    member = active_member(skills=("tv_wall_mount", "soundbar_install"), radius_km=30)

    assert_reach(member.profile_id, BERLIN["lat"], BERLIN["lon"], 30, claims=2)


def test_moving_a_member_moves_every_claim_and_the_ranking_follows(client, customer):
    job = make_job(customer)
    member = active_member(skills=("tv_wall_mount", "soundbar_install"), radius_km=30)
    assert candidate_ids(job) == [member.profile_id]

    moved = client.patch(ME, json=HAMBURG, headers=member.headers)

    assert moved.status_code == 200, moved.json
    assert_reach(member.profile_id, HAMBURG["lat"], HAMBURG["lon"], 30, claims=2)
    assert candidate_ids(job) == []

    client.patch(ME, json={"lat": BERLIN["lat"], "lon": BERLIN["lon"]}, headers=member.headers)

    assert_reach(member.profile_id, BERLIN["lat"], BERLIN["lon"], 30, claims=2)
    assert candidate_ids(job) == [member.profile_id]


def test_a_wider_service_radius_reaches_the_job(client, customer):
    job = make_job(customer)
    member = active_member(radius_km=20, **POTSDAM)  # Berlin Mitte is ≈ 27 km away
    assert candidate_ids(job) == []

    client.patch(ME, json={"service_radius_km": 30}, headers=member.headers)

    assert_reach(member.profile_id, POTSDAM["lat"], POTSDAM["lon"], 30, claims=1)
    assert candidate_ids(job) == [member.profile_id]

    client.patch(ME, json={"service_radius_km": 20}, headers=member.headers)

    assert_reach(member.profile_id, POTSDAM["lat"], POTSDAM["lon"], 20, claims=1)
    assert candidate_ids(job) == []


def test_a_skill_claimed_later_is_in_reach_at_once_and_gone_when_dropped(client, customer):
    job = make_job(customer)
    member = active_member(skills=("soundbar_install",))
    assert candidate_ids(job) == []

    claims = [{"skill": "soundbar_install", "proficiency": 2}]
    claims.append({"skill": "tv_wall_mount", "proficiency": 1})
    response = client.put(f"{ME}/skills", json={"skills": claims}, headers=member.headers)

    assert response.status_code == 200, response.json
    assert_reach(member.profile_id, BERLIN["lat"], BERLIN["lon"], 30, claims=2)
    assert candidate_ids(job) == [member.profile_id]

    client.put(f"{ME}/skills", json={"skills": claims[:1]}, headers=member.headers)

    assert_reach(member.profile_id, BERLIN["lat"], BERLIN["lon"], 30, claims=1)
    assert candidate_ids(job) == []


def test_a_set_based_update_of_members_keeps_the_reach(customer):
    """Written past the ORM (one UPDATE for many members): the database keeps the copy."""
    job = make_job(customer)
    first, second = active_member(), active_member()

    db.session.execute(
        update(Member)
        .where(Member.id.in_([first.profile_id, second.profile_id]))
        .values(lat=HAMBURG["lat"], lon=HAMBURG["lon"], service_radius_km=50)
    )

    for member in (first, second):
        assert_reach(member.profile_id, HAMBURG["lat"], HAMBURG["lon"], 50, claims=1)
    assert candidate_ids(job) == []


def test_clearing_the_location_clears_the_reach(customer):
    job = make_job(customer)
    member = active_member()
    row = member_row(member)
    row.lat = row.lon = None
    db.session.flush()

    assert claims_reach(member.profile_id) == {
        next(iter(claims_reach(member.profile_id))): (None, None, None, None)
    }
    assert candidate_ids(job) == []


def test_a_member_who_moves_while_deactivated_is_ranked_where_they_are_now(customer):
    job = make_job(customer)
    member = active_member(**POTSDAM, radius_km=20)
    close_access(member.user_id, actor_id=None, reason="deactivated by staff")
    row = member_row(member)
    row.lat, row.lon = BERLIN["lat"], BERLIN["lon"]
    db.session.flush()
    assert candidate_ids(job) == []

    db.session.execute(
        text("UPDATE users SET disabled_at = NULL WHERE id = :id"), {"id": member.user_id}
    )

    assert_reach(member.profile_id, BERLIN["lat"], BERLIN["lon"], 20, claims=1)
    assert candidate_ids(job) == [member.profile_id]


def test_the_prefilter_finds_holders_of_the_skill_in_reach_in_one_index_scan(on_postgres, customer):
    """The skill and the reach are both conditions of ix_member_skills_reach, with the
    parameters as the driver sends them (the skill as bigint: `bigint = integer` is not in
    btree_gist's operator class, and the index would then match the reach alone — everyone
    in reach, whatever their skills)."""
    job = make_job(customer)
    active_member()
    facts = JobFacts.of(job)
    params, _ = prefilter_params(facts, ())

    def explain(conn, cursor, statement, parameters, context, executemany):
        return "EXPLAIN " + statement, parameters

    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    # The statement exactly as the driver gets it (parameters and their types), explained.
    event.listen(db.engine, "before_cursor_execute", explain, retval=True)
    try:
        rows = db.session.connection().execute(prefilter_query(facts.shape), params)
        plan = "\n".join(row[0] for row in rows)
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)

    scans = [line for line in plan.splitlines() if "ix_member_skills_reach" in line]
    assert len(scans) == 1, plan
    [scan] = scans
    after = plan.splitlines()[plan.splitlines().index(scan) + 1]
    assert "Index Cond" in after and "skill_id =" in after and "&&" in after, plan


def test_a_two_skill_job_needs_both_whichever_one_is_missing(customer):
    """The prefilter reads the first skill through the reach of its claims and checks the rest
    separately: lacking either one excludes the member."""
    job = make_job(customer, skills=("tv_wall_mount", "soundbar_install"))
    both = active_member(skills=("tv_wall_mount", "soundbar_install"))
    active_member(skills=("tv_wall_mount",))
    active_member(skills=("soundbar_install",))

    assert candidate_ids(job) == [both.profile_id]


def test_a_job_in_a_verified_category_needs_the_first_skill_verified_too(customer):
    job = make_job(customer, category="household_appliances", skills=("washing_machine_repair",))
    verified = active_member(skills=("washing_machine_repair",), verified=True)
    active_member(skills=("washing_machine_repair",), verified=False)

    assert candidate_ids(job) == [verified.profile_id]
