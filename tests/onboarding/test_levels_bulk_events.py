"""A crowd-wide (bulk) level run emits one level.changes_recorded per chunk, listing each change
as one member's level.changed carries it, and its subscribers do what level.changed's do,
whichever path promoted the member: a promoted mentee is checked for graduation, and
graduates."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.core.db import commit
from crowd.extensions import db
from mentoring.models import Mentorship
from onboarding.levels.evaluation import evaluate_crowd, promote_on_event
from tests.event_recorder import recording
from tests.jobs.conftest import active_member, drain_background
from tests.onboarding.test_levels_support import (
    changes_of,
    default_ladder,  # noqa: F401  (fixture)
    put_ladder,
    rank_of,
    ranked_member,
)
from tests.payouts.job_money_helpers import outbox

pytestmark = pytest.mark.usefixtures("default_ladder")


@pytest.fixture
def ladder(app, client, admin):
    """The test ladder (Starter; Member ≥ 10 jobs; Senior ≥ 50 jobs, ≤ 10 % cancelled)."""
    return put_ladder(app, client, admin)


def _mentee(jobs: int):
    """A Starter with `jobs` confirmed jobs and an active mentorship."""
    actor = ranked_member(1, jobs=jobs)
    coach = active_member()
    db.session.add(
        Mentorship(
            mentor_id=coach.profile_id, mentee_id=actor.profile_id, status="active", origin="staff"
        )
    )
    db.session.commit()
    return actor


def one_member(actor) -> None:
    promote_on_event(actor.profile_id, cause="test")
    commit()


def the_crowd(actor) -> None:
    evaluate_crowd(cause="daily")  # commits per chunk


def _of(caught, name: str) -> list:
    return [event for event in caught if event.name == name]


def _payload_of(caught, actor) -> dict:
    """What the events caught say of `actor`'s change: level.changed's payload, or their entry
    in a chunk's level.changes_recorded (without the member id the event's subject carries)."""
    found = [e.payload for e in _of(caught, "level.changed") if e.subject_id == actor.profile_id]
    for event in _of(caught, "level.changes_recorded"):
        assert (event.subject_type, event.actor) == ("level_ruleset", "system")
        found += [
            {k: v for k, v in change.items() if k != "member_id"}
            for change in event.payload["changes"]
            if change["member_id"] == actor.profile_id
        ]
    [payload] = found
    return payload


@pytest.mark.parametrize("path", [one_member, the_crowd])
def test_a_promotion_graduates_the_mentee_whichever_path(app, ladder, path):
    actor = _mentee(jobs=10)

    with recording("level.changed", "level.changes_recorded") as caught:
        path(actor)

    [change] = changes_of(actor)
    assert rank_of(actor) == 2
    assert _payload_of(caught, actor) == {
        "change_id": change.id,
        "from_rank": 1,
        "to_rank": 2,
        "cause": change.cause,
    }
    assert len(outbox("mentoring.check_graduation", mentee_id=actor.profile_id)) == 1
    drain_background(app)
    mentorship = db.session.get(Mentorship, _mentorship_id(actor))
    assert (mentorship.status, mentorship.graduation_cause) == ("graduated", "level")


def test_a_bulk_run_emits_one_event_per_chunk_listing_each_change(app, ladder):
    promoted = [_mentee(jobs=10) for _ in range(3)]
    demoted = ranked_member(2, jobs=0, promoted_days_ago=400)

    with recording("level.changed", "level.changes_recorded") as caught:
        evaluate_crowd(cause="daily", chunk=2)

    assert _of(caught, "level.changed") == []
    chunks = _of(caught, "level.changes_recorded")
    assert [len(event.payload["changes"]) for event in chunks] == [2, 2]
    listed = [change["member_id"] for event in chunks for change in event.payload["changes"]]
    assert sorted(listed) == sorted(actor.profile_id for actor in [*promoted, demoted])
    for actor in [*promoted, demoted]:
        [change] = changes_of(actor)
        payload = _payload_of(caught, actor)
        assert (payload["change_id"], payload["from_rank"], payload["to_rank"]) == (
            change.id,
            change.from_rank,
            change.to_rank,
        )
    # Only the promotions are checked for graduation.
    assert rank_of(demoted) == 1
    assert outbox("mentoring.check_graduation", mentee_id=demoted.profile_id) == []
    for actor in promoted:
        assert len(outbox("mentoring.check_graduation", mentee_id=actor.profile_id)) == 1


def _mentorship_id(actor) -> int:
    return db.session.scalar(select(Mentorship.id).where(Mentorship.mentee_id == actor.profile_id))
